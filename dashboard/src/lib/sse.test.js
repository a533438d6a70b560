import { describe, it, expect } from 'vitest';
import { createSSEParser, followStream, backoff } from './sse.js';
import { createApi, ApiError } from './api.js';

function parseAll(chunks) {
	const got = [];
	const retries = [];
	const push = createSSEParser((e) => got.push(e), (ms) => retries.push(ms));
	for (const c of chunks) push(c);
	return { got, retries };
}

describe('createSSEParser', () => {
	const cases = [
		{
			name: 'one event as the tail sends it',
			chunks: [': connected\n\nid: 12\nevent: execution\ndata: {"seq":12}\n\n'],
			want: [{ id: '12', event: 'execution', data: '{"seq":12}' }]
		},
		{
			name: 'split anywhere, even inside a field name',
			chunks: ['id: 1\nev', 'ent: execution\nda', 'ta: {"a"', ':1}\n', '\n'],
			want: [{ id: '1', event: 'execution', data: '{"a":1}' }]
		},
		{
			name: 'CRLF split between CR and LF',
			chunks: ['data: a\r', '\n\r', '\n'],
			want: [{ id: '', event: 'message', data: 'a' }]
		},
		{
			name: 'bare CR line endings',
			chunks: ['data: x\r\rdata: y\r\r'],
			want: [
				{ id: '', event: 'message', data: 'x' },
				{ id: '', event: 'message', data: 'y' }
			]
		},
		{
			name: 'multi-line data joined with newlines; no space after colon',
			chunks: ['data:one\ndata: two\n\n'],
			want: [{ id: '', event: 'message', data: 'one\ntwo' }]
		},
		{
			name: 'comments and pings are ignored; no data, no event',
			chunks: [': ping\n\nevent: execution\n\n: ping\n\n'],
			want: []
		},
		{
			name: 'id persists to later events; event resets',
			chunks: ['id: 5\nevent: execution\ndata: a\n\ndata: b\n\n'],
			want: [
				{ id: '5', event: 'execution', data: 'a' },
				{ id: '5', event: 'message', data: 'b' }
			]
		},
		{
			name: 'an unterminated event is not dispatched',
			chunks: ['data: partial\n'],
			want: []
		},
		{
			name: 'leading BOM is dropped',
			chunks: ['\ufeffdata: x\n\n'],
			want: [{ id: '', event: 'message', data: 'x' }]
		}
	];
	for (const c of cases) {
		it(c.name, () => {
			expect(parseAll(c.chunks).got).toEqual(c.want);
		});
	}
	it('reports retry and ignores a bad one', () => {
		expect(parseAll(['retry: 3000\nretry: soon\n\n']).retries).toEqual([3000]);
	});
});

describe('backoff', () => {
	it('doubles up to 15 s', () => {
		expect([0, 1, 2, 5, 9].map(backoff)).toEqual([500, 1000, 2000, 15000, 15000]);
	});
});

/** A fetch answering each call with the next scripted response. */
function streamingFetch(script) {
	const calls = [];
	const fn = async (url, init) => {
		calls.push({ url, headers: init.headers });
		const r = script.shift();
		if (!r) {
			// Hangs until aborted, as a real fetch of an idle stream does.
			return new Promise((_, rej) => init.signal?.addEventListener('abort', () => rej(new DOMException('aborted', 'AbortError'))));
		}
		if (r instanceof Error) throw r;
		if (r.status && r.status !== 200) return new Response(JSON.stringify(r.body), { status: r.status });
		const enc = new TextEncoder();
		const body = new ReadableStream({
			start(ctl) {
				for (const c of r.chunks) ctl.enqueue(enc.encode(c));
				ctl.close();
			}
		});
		return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
	};
	return { fn, calls };
}

describe('followStream', () => {
	it('reconnects with Last-Event-ID after a drop and stops on a 4xx', async () => {
		const { fn, calls } = streamingFetch([
			{ chunks: [': connected\n\n', 'id: 7\nevent: execution\ndata: {"seq":7}\n\n'] },
			new TypeError('network down'),
			{ chunks: ['id: 8\nevent: execution\ndata: {"seq":8}\n\n'] },
			{ status: 404, body: { error: { code: 'not_found', message: 'app "x" not found' } } }
		]);
		const api = createApi({ fetch: fn, getToken: () => 'tok' });
		const events = [];
		const states = [];
		const f = followStream(api, '/logs/tail?app=x', {
			onEvent: (e) => events.push(e.id),
			onState: (s) => states.push(s.state),
			sleep: async () => {}
		});
		await f.done;
		expect(events).toEqual(['7', '8']);
		expect(calls.map((c) => c.headers['Last-Event-ID'] ?? '')).toEqual(['', '7', '7', '8']);
		expect(calls.every((c) => c.headers.Authorization === 'Bearer tok')).toBe(true);
		expect(states.at(-1)).toBe('stopped');
		expect(states).toContain('live');
		expect(states).toContain('retrying');
	});

	it('stop() ends a live stream', async () => {
		const { fn } = streamingFetch([]);
		const api = createApi({ fetch: fn });
		const states = [];
		const f = followStream(api, '/logs/tail', { onEvent: () => {}, onState: (s) => states.push(s.state) });
		await new Promise((r) => setTimeout(r, 10));
		await f.stop();
		expect(states.at(-1)).toBe('stopped');
	});
});

describe('api.stream and api.raw', () => {
	it('stream refuses with the API error and reports 401', async () => {
		const { fn } = streamingFetch([{ status: 401, body: { error: { code: 'unauthenticated', message: 'log in first' } } }]);
		let unauthorized = 0;
		const api = createApi({ fetch: fn, onUnauthorized: () => unauthorized++ });
		const err = await api.stream('/logs/tail', { onText: () => {} }).catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err.message).toBe('log in first');
		expect(unauthorized).toBe(1);
	});

	it('raw returns bytes and headers, sends the body as is', async () => {
		const calls = [];
		const api = createApi({
			getToken: () => 't',
			fetch: async (url, init) => {
				calls.push({ url, init });
				return new Response(new Uint8Array([1, 2, 255]), { status: 200, headers: { 'X-PiCloud-KV-Expiration': '99' } });
			}
		});
		const r = await api.raw('PUT', '/apps/a/kv/n/values/k', { body: 'hello', headers: { 'X-Test': '1' } });
		expect(Array.from(r.bytes)).toEqual([1, 2, 255]);
		expect(r.headers.get('x-picloud-kv-expiration')).toBe('99');
		expect(calls[0].init.body).toBe('hello');
		expect(calls[0].init.headers).toMatchObject({ Authorization: 'Bearer t', 'X-PiCloud-CSRF': '1', 'X-Test': '1' });
	});

	it('raw turns an error envelope into an ApiError', async () => {
		const api = createApi({
			fetch: async () => new Response(JSON.stringify({ error: { code: 'invalid_kv', message: 'Invalid expiration_ttl of 10.' } }), { status: 422 })
		});
		const err = await api.raw('PUT', '/x').catch((e) => e);
		expect(err).toMatchObject({ status: 422, code: 'invalid_kv', message: 'Invalid expiration_ttl of 10.' });
	});
});
