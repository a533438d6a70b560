// The one way the dashboard talks to the admin API: every call goes
// through request(), which adds credentials and the CSRF header, and turns
// every failure (error envelope, non-JSON body, network) into an ApiError
// with a message a person can read.

/** Where the public admin API is mounted (same origin as the dashboard). */
export const API_PREFIX = '/api/v1/admin';

export class ApiError extends Error {
	/**
	 * @param {{status: number, code: string, message: string, details?: any}} e
	 */
	constructor({ status, code, message, details }) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
		this.details = details ?? null;
	}
}

const statusMessages = {
	400: 'The request was refused as invalid',
	401: 'Your session has expired; log in again',
	403: 'You are not allowed to do that',
	404: 'Not found',
	405: 'This action is not supported by this node',
	409: 'That conflicts with something that already exists',
	413: 'The request is too large',
	422: 'The request could not be processed',
	429: 'Too many requests; wait a moment and retry',
	500: 'The server failed to handle the request',
	502: 'The node could not reach a backend',
	503: 'The node is busy or starting; retry shortly',
	504: 'The server took too long to answer'
};

/**
 * Builds an ApiError from a failed response. The admin API answers
 * {"error":{"code","message","details"}}; anything else (a proxy's HTML
 * page, an empty body) still gets a readable message.
 * @param {number} status
 * @param {any} data parsed JSON body, or undefined when not JSON
 * @param {string} text raw body
 */
export function errorFromResponse(status, data, text = '') {
	const env = data && typeof data === 'object' ? data.error : null;
	if (env && typeof env === 'object' && typeof env.message === 'string' && env.message) {
		return new ApiError({
			status,
			code: typeof env.code === 'string' && env.code ? env.code : `http_${status}`,
			message: env.message,
			details: env.details
		});
	}
	let message = statusMessages[status] ?? `Request failed with HTTP status ${status}`;
	const snippet = text.trim().slice(0, 200);
	// Plain-text bodies are worth showing; HTML error pages are not.
	if (snippet && !snippet.startsWith('<') && data === undefined) message += `: ${snippet}`;
	return new ApiError({ status, code: `http_${status}`, message });
}

/**
 * Returns a message to show for any thrown value.
 * @param {unknown} err
 */
export function errorMessage(err) {
	if (err instanceof ApiError) return err.message;
	if (err instanceof Error && err.message) return err.message;
	return String(err ?? 'Unknown error');
}

/**
 * @typedef {object} ApiOptions
 * @property {typeof fetch} [fetch]
 * @property {() => string | null} [getToken] bearer token, if any
 * @property {(err: ApiError) => void} [onUnauthorized] called on a 401 from
 *   an authenticated call (the session expired or was revoked)
 * @property {string} [prefix]
 */

/** @param {ApiOptions} [opts] */
export function createApi(opts = {}) {
	const doFetch = opts.fetch ?? ((...a) => globalThis.fetch(...a));
	const getToken = opts.getToken ?? (() => null);
	const onUnauthorized = opts.onUnauthorized ?? (() => {});
	const prefix = opts.prefix ?? API_PREFIX;

	/**
	 * Sends one request with the credentials and, on writes, the CSRF
	 * header; a failure to reach the node becomes an ApiError.
	 * @param {string} method
	 * @param {string} path
	 * @param {Record<string, string>} headers
	 * @param {BodyInit} [body]
	 * @param {AbortSignal} [signal]
	 */
	async function send(method, path, headers, body, signal) {
		const token = getToken();
		if (token) headers.Authorization = `Bearer ${token}`;
		// Harmless with a bearer token, and required by the API on
		// cookie-authenticated writes.
		if (method !== 'GET' && method !== 'HEAD') headers['X-PiCloud-CSRF'] = '1';
		try {
			return await doFetch(prefix + path, { method, headers, body, signal, credentials: 'same-origin' });
		} catch (e) {
			if (signal?.aborted) throw e;
			throw networkError(e);
		}
	}

	/** @param {unknown} e */
	function networkError(e) {
		return new ApiError({
			status: 0,
			code: 'network',
			message: `Cannot reach the PiCloud node (${errorMessage(e)}); check the connection and retry`
		});
	}

	/**
	 * Reads a body: parsed JSON, null when empty, undefined when not JSON.
	 * @param {Response} res
	 */
	async function read(res) {
		const text = await res.text().catch(() => '');
		let data = null;
		if (text) {
			try {
				data = JSON.parse(text);
			} catch {
				data = undefined;
			}
		}
		return { text, data };
	}

	/**
	 * The ApiError for a failed response; a 401 also ends the session
	 * unless the call was anonymous.
	 * @param {Response} res
	 * @param {boolean} [anonymous]
	 */
	async function failure(res, anonymous) {
		const { text, data } = await read(res);
		const err = errorFromResponse(res.status, data, text);
		if (res.status === 401 && !anonymous) onUnauthorized(err);
		return err;
	}

	/**
	 * @param {string} method
	 * @param {string} path relative to the API prefix, e.g. "/scripts?app=x"
	 * @param {any} [body] sent as JSON
	 * @param {{anonymous?: boolean}} [o] anonymous: a 401 is an answer
	 *   (bad password), not an expired session
	 */
	async function request(method, path, body, o = {}) {
		/** @type {Record<string, string>} */
		const headers = { Accept: 'application/json' };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		const res = await send(method, path, headers, body === undefined ? undefined : JSON.stringify(body));
		if (!res.ok) throw await failure(res, o.anonymous);
		const { data } = await read(res);
		if (data === undefined) {
			throw new ApiError({
				status: res.status,
				code: 'bad_response',
				message: 'The node answered with something that is not JSON'
			});
		}
		return data;
	}

	/**
	 * Sends a request whose body and answer are not JSON (KV values):
	 * body is sent as is, the answer comes back as bytes with its headers.
	 * Failures are ApiErrors exactly as for request().
	 * @param {string} method
	 * @param {string} path
	 * @param {{body?: BodyInit, headers?: Record<string, string>}} [o]
	 * @returns {Promise<{status: number, headers: Headers, bytes: Uint8Array}>}
	 */
	async function raw(method, path, o = {}) {
		const res = await send(method, path, { ...(o.headers ?? {}) }, o.body);
		if (!res.ok) throw await failure(res);
		return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
	}

	/**
	 * Opens a Server-Sent Events stream with fetch (unlike EventSource it
	 * can send the Authorization and Last-Event-ID headers) and hands each
	 * chunk of text to onText. Resolves when the server ends the stream,
	 * rejects with an ApiError when it refuses it, or with an AbortError
	 * when signal aborts.
	 * @param {string} path
	 * @param {{onOpen?: () => void, onText: (s: string) => void, signal?: AbortSignal, lastEventId?: string}} o
	 */
	async function stream(path, o) {
		/** @type {Record<string, string>} */
		const headers = { Accept: 'text/event-stream' };
		if (o.lastEventId) headers['Last-Event-ID'] = o.lastEventId;
		const res = await send('GET', path, headers, undefined, o.signal);
		if (!res.ok || !res.body) throw await failure(res);
		o.onOpen?.();
		const reader = res.body.getReader();
		const dec = new TextDecoder();
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				o.onText(dec.decode(value, { stream: true }));
			}
		} catch (e) {
			if (o.signal?.aborted) throw e;
			throw networkError(e);
		}
	}

	return {
		request,
		raw,
		stream,
		/** @param {string} p @param {any} [o] */
		get: (p, o) => request('GET', p, undefined, o),
		/** @param {string} p @param {any} [b] @param {any} [o] */
		post: (p, b, o) => request('POST', p, b, o),
		/** @param {string} p @param {any} [b] */
		put: (p, b) => request('PUT', p, b),
		/** @param {string} p @param {any} [b] */
		patch: (p, b) => request('PATCH', p, b),
		/** @param {string} p */
		del: (p) => request('DELETE', p)
	};
}

/**
 * Reads a list out of a response that is either an array or an object
 * holding one under key (endpoints differ; both are accepted).
 * @param {any} data
 * @param {string} key
 * @returns {any[]}
 */
export function listFrom(data, key) {
	if (Array.isArray(data)) return data;
	if (data && Array.isArray(data[key])) return data[key];
	if (data && Array.isArray(data.items)) return data.items;
	return [];
}
