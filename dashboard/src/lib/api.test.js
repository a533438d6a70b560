import { describe, it, expect, vi } from 'vitest';
import { createApi, errorFromResponse, errorMessage, listFrom, ApiError } from './api.js';

/** A fetch that records calls and answers with the given responses. */
function fakeFetch(...responses) {
	const calls = [];
	const fn = async (url, init) => {
		calls.push({ url, init });
		const r = responses.shift();
		if (r instanceof Error) throw r;
		return new Response(r.body ?? null, { status: r.status ?? 200, headers: r.headers });
	};
	return { fn, calls };
}

describe('errorFromResponse', () => {
	const cases = [
		{
			name: 'envelope with details',
			status: 400,
			data: { error: { code: 'syntax_error', message: 'syntax error at line 2', details: { line: 2, column: 5 } } },
			want: { code: 'syntax_error', message: 'syntax error at line 2', details: { line: 2, column: 5 } }
		},
		{
			name: 'envelope without code',
			status: 409,
			data: { error: { message: 'already exists' } },
			want: { code: 'http_409', message: 'already exists', details: null }
		},
		{
			name: 'html error page',
			status: 502,
			data: undefined,
			text: '<html><body>Bad Gateway</body></html>',
			want: { code: 'http_502', message: 'The node could not reach a backend', details: null }
		},
		{
			name: 'plain text body is shown',
			status: 405,
			data: undefined,
			text: 'method not allowed',
			want: { code: 'http_405', message: 'This action is not supported by this node: method not allowed', details: null }
		},
		{
			name: 'empty body, unknown status',
			status: 418,
			data: null,
			want: { code: 'http_418', message: 'Request failed with HTTP status 418', details: null }
		},
		{
			name: 'json without envelope',
			status: 500,
			data: { oops: true },
			text: '{"oops":true}',
			want: { code: 'http_500', message: 'The server failed to handle the request', details: null }
		},
		{
			name: 'envelope with empty message falls back',
			status: 403,
			data: { error: { code: 'forbidden', message: '' } },
			want: { code: 'http_403', message: 'You are not allowed to do that', details: null }
		}
	];
	for (const c of cases) {
		it(c.name, () => {
			const e = errorFromResponse(c.status, c.data, c.text ?? '');
			expect(e).toBeInstanceOf(ApiError);
			expect(e.status).toBe(c.status);
			expect({ code: e.code, message: e.message, details: e.details }).toEqual(c.want);
		});
	}
});

describe('createApi', () => {
	it('sends the bearer token, JSON body and CSRF header on writes', async () => {
		const f = fakeFetch({ status: 201, body: '{"id":"s1"}' });
		const api = createApi({ fetch: f.fn, getToken: () => 'tok' });
		const out = await api.post('/scripts', { name: 'a.js' });
		expect(out).toEqual({ id: 's1' });
		const { url, init } = f.calls[0];
		expect(url).toBe('/api/v1/admin/scripts');
		expect(init.method).toBe('POST');
		expect(init.headers.Authorization).toBe('Bearer tok');
		expect(init.headers['X-PiCloud-CSRF']).toBe('1');
		expect(init.headers['Content-Type']).toBe('application/json');
		expect(JSON.parse(init.body)).toEqual({ name: 'a.js' });
	});

	it('sends no CSRF header, body or token on anonymous reads', async () => {
		const f = fakeFetch({ body: '[]' });
		const api = createApi({ fetch: f.fn });
		await api.get('/apps');
		const { init } = f.calls[0];
		expect(init.headers.Authorization).toBeUndefined();
		expect(init.headers['X-PiCloud-CSRF']).toBeUndefined();
		expect(init.body).toBeUndefined();
	});

	it('returns null for 204', async () => {
		const f = fakeFetch({ status: 204 });
		expect(await createApi({ fetch: f.fn }).post('/auth/logout')).toBeNull();
	});

	it('throws the envelope as ApiError', async () => {
		const f = fakeFetch({ status: 400, body: '{"error":{"code":"invalid_name","message":"bad name"}}' });
		const err = await createApi({ fetch: f.fn }).post('/scripts', {}).catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err.code).toBe('invalid_name');
		expect(errorMessage(err)).toBe('bad name');
	});

	it('reports an expired session once, and not for anonymous calls', async () => {
		const body = '{"error":{"code":"unauthenticated","message":"log in first"}}';
		const f = fakeFetch({ status: 401, body }, { status: 401, body });
		const onUnauthorized = vi.fn();
		const api = createApi({ fetch: f.fn, getToken: () => 't', onUnauthorized });
		await expect(api.get('/auth/me')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
		expect(onUnauthorized).toHaveBeenCalledTimes(1);
		await expect(api.post('/auth/login', {}, { anonymous: true })).rejects.toMatchObject({ status: 401 });
		expect(onUnauthorized).toHaveBeenCalledTimes(1);
	});

	it('turns a network failure into a readable error', async () => {
		const f = fakeFetch(new TypeError('Failed to fetch'));
		const err = await createApi({ fetch: f.fn }).get('/apps').catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err.code).toBe('network');
		expect(err.message).toMatch(/Cannot reach the PiCloud node/);
		expect(err.message).toMatch(/Failed to fetch/);
	});

	it('refuses a 200 that is not JSON', async () => {
		const f = fakeFetch({ status: 200, body: '<html>login portal</html>' });
		await expect(createApi({ fetch: f.fn }).get('/apps')).rejects.toMatchObject({ code: 'bad_response' });
	});
});

describe('listFrom', () => {
	it.each([
		['array', [{ a: 1 }], 'apps', [{ a: 1 }]],
		['keyed', { apps: [{ a: 1 }] }, 'apps', [{ a: 1 }]],
		['items', { items: [1] }, 'apps', [1]],
		['missing', { other: [] }, 'apps', []],
		['null', null, 'apps', []]
	])('%s', (_n, data, key, want) => {
		expect(listFrom(data, key)).toEqual(want);
	});
});

describe('errorMessage', () => {
	it.each([
		['api error', new ApiError({ status: 1, code: 'x', message: 'm' }), 'm'],
		['error', new Error('boom'), 'boom'],
		['string', 'text', 'text'],
		['undefined', undefined, 'Unknown error']
	])('%s', (_n, v, want) => {
		expect(errorMessage(v)).toBe(want);
	});
});
