import { describe, it, expect } from 'vitest';
import { ApiError } from './api.js';
import { conflictNote, patternCaret, routeLabel } from './explain.js';

const err = (code, details) => new ApiError({ status: 409, code, message: 'm', details });

describe('routeLabel', () => {
	it.each([
		[{ method: 'GET', host: '', path: '/a', script: 's.js' }, 'GET /a → s.js'],
		[{ method: '*', host: 'x.test', path: '/b' }, 'ANY x.test/b'],
		[{ method: '', path: '/' }, 'ANY /']
	])('%o', (r, want) => expect(routeLabel(r)).toBe(want));
});

describe('conflictNote', () => {
	it('names the conflicting route', () => {
		expect(conflictNote(err('route_conflict', { conflicting_route: { method: 'GET', host: '', path: '/u/:id', script: 'users' } }))).toBe(
			'Conflicts with the route GET /u/:id → users'
		);
	});
	it('names the app holding a domain', () => {
		expect(conflictNote(err('domain_conflict', { conflicting_claim: { pattern: '*.x.test', app: 'shop' } }))).toBe('*.x.test is claimed by app shop');
	});
	it('says nothing for other errors', () => {
		expect(conflictNote(err('app_exists', {}))).toBe('');
		expect(conflictNote(new Error('x'))).toBe('');
	});
});

describe('patternCaret', () => {
	it('points at the position', () => {
		const e = new ApiError({ status: 422, code: 'invalid_pattern', message: 'm', details: { field: 'path', input: '/a/{b', position: 3, reason: 'x' } });
		expect(patternCaret(e)).toEqual({ field: 'path', input: '/a/{b', caret: '   ^' });
	});
	it('clamps past the end and ignores missing details', () => {
		const e = new ApiError({ status: 422, code: 'invalid_pattern', message: 'm', details: { input: 'ab', position: 9 } });
		expect(patternCaret(e)?.caret).toBe('  ^');
		expect(patternCaret(new ApiError({ status: 422, code: 'x', message: 'm' }))).toBeNull();
	});
});
