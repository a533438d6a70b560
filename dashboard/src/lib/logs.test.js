import { describe, it, expect } from 'vitest';
import { logQuery, mergeExecutions, executionFromEvent, matchesSearch, formatDuration } from './logs.js';

describe('logQuery', () => {
	const cases = [
		{ name: 'app only', f: { app: 'default' }, want: 'app=default' },
		{
			name: 'every filter',
			f: { app: 'shop', script: 'a b', level: 'warn', outcome: 'timeout', limit: 50, cursor: '17', lines: true },
			want: 'app=shop&script=a+b&level=warn&outcome=timeout&limit=50&cursor=17&lines=true'
		},
		{ name: 'empty filters left out', f: { app: 'x', script: '', level: '', outcome: '' }, want: 'app=x' }
	];
	for (const c of cases) it(c.name, () => expect(logQuery(c.f)).toBe(c.want));
});

describe('mergeExecutions', () => {
	const e = (seq) => ({ seq });
	it('prepends live ones, skips duplicates, keeps newest first', () => {
		const got = mergeExecutions([e(5), e(3)], [e(6), e(5), e(7), e(6)]);
		expect(got.map((x) => x.seq)).toEqual([7, 6, 5, 3]);
	});
	it('appends an older page', () => {
		expect(mergeExecutions([e(9), e(8)], [e(4), e(2)]).map((x) => x.seq)).toEqual([9, 8, 4, 2]);
	});
	it('caps the list, dropping the oldest', () => {
		expect(mergeExecutions([e(3), e(2), e(1)], [e(4)], 3).map((x) => x.seq)).toEqual([4, 3, 2]);
	});
	it('returns the same list when nothing is new', () => {
		const l = [e(1)];
		expect(mergeExecutions(l, [e(1), null, { seq: 'x' }])).toBe(l);
	});
});

describe('executionFromEvent', () => {
	it('parses execution events only', () => {
		expect(executionFromEvent({ event: 'execution', data: '{"seq":3,"path":"/"}' })).toEqual({ seq: 3, path: '/' });
		expect(executionFromEvent({ event: 'message', data: '{"seq":3}' })).toBeNull();
		expect(executionFromEvent({ event: 'execution', data: 'not json' })).toBeNull();
		expect(executionFromEvent({ event: 'execution', data: '{"id":"x"}' })).toBeNull();
	});
});

describe('matchesSearch', () => {
	const ex = {
		path: '/hello',
		script: 'greet',
		status: 504,
		outcome: 'timeout',
		error: 'script exceeded its time limit',
		request_id: 'req-abc',
		logs: [{ message: 'Greeting Pi' }]
	};
	const cases = [
		['', true],
		['HELLO', true],
		['greet', true],
		['504', true],
		['time limit', true],
		['req-abc', true],
		['greeting pi', true],
		['nothing like it', false]
	];
	for (const [q, want] of cases) it(`"${q}" → ${want}`, () => expect(matchesSearch(ex, q)).toBe(want));
});

describe('formatDuration', () => {
	const cases = [
		[0.25, '250 µs'],
		[1.84, '1.8 ms'],
		[250.4, '250 ms'],
		[1520, '1.52 s'],
		[-1, '–'],
		[NaN, '–']
	];
	for (const [ms, want] of cases) it(`${ms} → ${want}`, () => expect(formatDuration(ms)).toBe(want));
});
