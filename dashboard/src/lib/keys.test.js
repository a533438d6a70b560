import { describe, it, expect } from 'vitest';
import { keyRequest, expired } from './keys.js';

describe('keyRequest', () => {
	const cases = [
		{ name: 'plain', f: { name: ' ci ', scopes: ['script:write'], app: '', expiresIn: '' }, want: { body: { name: 'ci', scopes: ['script:write'] } } },
		{ name: 'bound and expiring', f: { name: '', scopes: ['app:read'], app: 'shop', expiresIn: '720h' }, want: { body: { name: '', scopes: ['app:read'], app: 'shop', expires_in: '720h' } } },
		{ name: 'no scopes', f: { name: 'x', scopes: [], app: '', expiresIn: '' }, want: { error: 'Choose at least one scope.' } },
		{ name: 'instance on an app', f: { name: 'x', scopes: ['instance:*'], app: 'shop', expiresIn: '' }, want: { error: expect.stringMatching(/cannot have instance/) } }
	];
	for (const c of cases) it(c.name, () => expect(keyRequest(c.f)).toEqual(c.want));
});

describe('expired', () => {
	const now = new Date('2026-01-02T00:00:00Z');
	it.each([
		[{}, false],
		[{ expires_at: null }, false],
		[{ expires_at: '2026-01-01T00:00:00Z' }, true],
		[{ expires_at: '2026-01-03T00:00:00Z' }, false]
	])('%o → %s', (k, want) => expect(expired(k, now)).toBe(want));
});
