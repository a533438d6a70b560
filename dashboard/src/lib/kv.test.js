import { describe, it, expect } from 'vitest';
import { valuePath, keysPath, renderValue, hexDump, formatBytes, putOptions, expiresIn } from './kv.js';

const enc = (s) => new TextEncoder().encode(s);

describe('paths', () => {
	it('keeps slashes in keys and encodes the rest', () => {
		expect(valuePath('my app', 'store', 'user/1?x#y %')).toBe('/apps/my%20app/kv/store/values/user/1%3Fx%23y%20%25');
	});
	it('keys page query', () => {
		expect(keysPath('a', 'ns', { prefix: 'user:', cursor: 'c1', limit: 50 })).toBe('/apps/a/kv/ns/keys?prefix=user%3A&cursor=c1&limit=50');
		expect(keysPath('a', 'ns')).toBe('/apps/a/kv/ns/keys');
	});
});

describe('renderValue', () => {
	const cases = [
		{ name: 'JSON object is pretty-printed', in: enc('{"a":1,"b":[true]}'), kind: 'json', text: '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}' },
		{ name: 'JSON-looking text that is not JSON', in: enc('{not json'), kind: 'text', text: '{not json' },
		{ name: 'a bare number stays text', in: enc('42'), kind: 'text', text: '42' },
		{ name: 'UTF-8 text with newlines', in: enc('héllo\nwörld\t!'), kind: 'text', text: 'héllo\nwörld\t!' },
		{ name: 'invalid UTF-8 is binary', in: new Uint8Array([0xff, 0xfe, 0x41]), kind: 'binary', text: '00000000  ff fe 41' + ' '.repeat(39) + '  ..A' },
		{ name: 'NUL bytes are binary', in: new Uint8Array([0x41, 0, 0x42]), kind: 'binary', text: '00000000  41 00 42' + ' '.repeat(39) + '  A.B' },
		{ name: 'empty value is text', in: new Uint8Array([]), kind: 'text', text: '' }
	];
	for (const c of cases) {
		it(c.name, () => {
			const r = renderValue(c.in);
			expect(r.kind).toBe(c.kind);
			expect(r.text).toBe(c.text);
			expect(r.size).toBe(c.in.length);
		});
	}
});

describe('hexDump', () => {
	it('16 bytes a line, truncated with a note', () => {
		const b = new Uint8Array(40).map((_, i) => i + 60);
		const lines = hexDump(b, 32).split('\n');
		expect(lines.length).toBe(3);
		expect(lines[1].startsWith('00000010  4c 4d')).toBe(true);
		expect(lines[2]).toBe('… 8 more bytes');
	});
});

describe('formatBytes', () => {
	it('units', () => {
		expect([0, 1023, 1536, 3 * 1024 * 1024].map(formatBytes)).toEqual(['0 B', '1023 B', '1.5 KiB', '3.0 MiB']);
	});
});

describe('putOptions', () => {
	const ok = [
		{ name: 'nothing extra', f: { key: 'k', ttl: '', metadata: '' }, want: { query: '', headers: {} } },
		{ name: 'ttl', f: { key: 'k', ttl: ' 3600 ', metadata: '' }, want: { query: '?expiration_ttl=3600', headers: {} } },
		{
			name: 'metadata compacted, non-Latin-1 escaped',
			f: { key: 'k', ttl: '', metadata: '{ "v": 1, "who": "Zoë ✓" }' },
			want: { query: '', headers: { 'X-PiCloud-KV-Metadata': '{"v":1,"who":"Zo\\u00eb \\u2713"}' } }
		}
	];
	for (const c of ok) it(c.name, () => expect(putOptions(c.f)).toEqual(c.want));
	const bad = [
		{ name: 'no key', f: { key: '', ttl: '', metadata: '' }, msg: /Enter a key/ },
		{ name: 'dot key', f: { key: '..', ttl: '', metadata: '' }, msg: /cannot be used/ },
		{ name: 'long key', f: { key: 'x'.repeat(513), ttl: '', metadata: '' }, msg: /512 bytes/ },
		{ name: 'short ttl', f: { key: 'k', ttl: '10', metadata: '' }, msg: /at least 60/ },
		{ name: 'ttl not a number', f: { key: 'k', ttl: '1h', metadata: '' }, msg: /whole number/ },
		{ name: 'bad metadata', f: { key: 'k', ttl: '', metadata: '{x' }, msg: /not valid JSON/ },
		{ name: 'big metadata', f: { key: 'k', ttl: '', metadata: JSON.stringify({ a: 'x'.repeat(1100) }) }, msg: /1024 bytes/ }
	];
	for (const c of bad) it(`refuses ${c.name}`, () => expect(() => putOptions(c.f)).toThrow(c.msg));
});

describe('expiresIn', () => {
	const now = 1_000_000_000;
	const cases = [
		[null, ''],
		[now / 1000 - 1, 'expired'],
		[now / 1000 + 30, 'in 30 s'],
		[now / 1000 + 3600, 'in 60 min'],
		[now / 1000 + 7200, 'in 2 h'],
		[now / 1000 + 3 * 86400, 'in 3 days']
	];
	for (const [exp, want] of cases) it(`${exp} → ${want}`, () => expect(expiresIn(exp, now)).toBe(want));
});
