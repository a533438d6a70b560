// Server-Sent Events over fetch: a parser for the text/event-stream format
// (WHATWG HTML "Parsing an event stream") and a loop that follows a stream,
// reconnecting with Last-Event-ID so nothing is missed or seen twice.
// The dashboard uses fetch, not EventSource, because EventSource cannot
// send the Authorization header the dashboard authenticates with.

/**
 * @typedef {{id: string, event: string, data: string}} SSEEvent
 */

/**
 * Returns a push(chunk) function that parses text as it arrives (chunks
 * may split lines anywhere) and calls onEvent for every complete event.
 * Comments (": ping") are ignored; `retry:` values go to onRetry.
 * @param {(e: SSEEvent) => void} onEvent
 * @param {(ms: number) => void} [onRetry]
 */
export function createSSEParser(onEvent, onRetry) {
	let buf = '';
	let data = [];
	let event = '';
	let lastId = '';
	let hasData = false;
	let first = true;
	let pendingCR = false;

	function line(l) {
		if (l === '') {
			if (hasData) onEvent({ id: lastId, event: event || 'message', data: data.join('\n') });
			data = [];
			event = '';
			hasData = false;
			return;
		}
		if (l.startsWith(':')) return;
		const i = l.indexOf(':');
		const field = i < 0 ? l : l.slice(0, i);
		let value = i < 0 ? '' : l.slice(i + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		switch (field) {
			case 'data':
				data.push(value);
				hasData = true;
				break;
			case 'event':
				event = value;
				break;
			case 'id':
				if (!value.includes('\0')) lastId = value;
				break;
			case 'retry':
				if (/^\d+$/.test(value)) onRetry?.(Number(value));
				break;
		}
	}

	/** @param {string} chunk */
	return function push(chunk) {
		if (first && chunk.length) {
			if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
			first = false;
		}
		// A CR at the end of the last chunk may be half of a CRLF.
		if (pendingCR && chunk.startsWith('\n')) chunk = chunk.slice(1);
		pendingCR = false;
		buf += chunk;
		let start = 0;
		for (let i = 0; i < buf.length; i++) {
			const c = buf[i];
			if (c === '\n' || c === '\r') {
				line(buf.slice(start, i));
				if (c === '\r') {
					if (i + 1 < buf.length) {
						if (buf[i + 1] === '\n') i++;
					} else {
						pendingCR = true;
					}
				}
				start = i + 1;
			}
		}
		buf = buf.slice(start);
	};
}

/**
 * Delay before reconnect attempt n (0-based): 0.5 s doubling to 15 s.
 * @param {number} n
 */
export function backoff(n) {
	return Math.min(15_000, 500 * 2 ** Math.min(n, 5));
}

/**
 * Follows an SSE stream until stop() is called: opens it with
 * api.stream, parses events, and reconnects after a drop with the last
 * event id. An error the server answers with (4xx) stops following, as
 * retrying would not help; network errors and 5xx retry with backoff.
 * @param {{stream: Function}} api
 * @param {string} path
 * @param {{onEvent: (e: SSEEvent) => void, onState?: (s: {state: 'connecting'|'live'|'retrying'|'stopped', error?: any, retryIn?: number}) => void, lastEventId?: string, sleep?: (ms: number, signal: AbortSignal) => Promise<void>}} o
 */
export function followStream(api, path, o) {
	const ctl = new AbortController();
	let lastId = o.lastEventId ?? '';
	const sleep =
		o.sleep ??
		((ms, signal) =>
			new Promise((res) => {
				const t = setTimeout(res, ms);
				signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
			}));
	const state = (s) => o.onState?.(s);

	const done = (async () => {
		let attempt = 0;
		while (!ctl.signal.aborted) {
			state({ state: 'connecting' });
			const push = createSSEParser((e) => {
				if (e.id) lastId = e.id;
				o.onEvent(e);
			});
			let error = null;
			try {
				await api.stream(path, {
					signal: ctl.signal,
					lastEventId: lastId,
					onOpen: () => {
						attempt = 0;
						state({ state: 'live' });
					},
					onText: push
				});
			} catch (e) {
				error = e;
			}
			if (ctl.signal.aborted) break;
			const status = error?.status ?? 0;
			if (status >= 400 && status < 500) {
				state({ state: 'stopped', error });
				return;
			}
			const wait = backoff(attempt++);
			state({ state: 'retrying', error, retryIn: wait });
			await sleep(wait, ctl.signal);
		}
		state({ state: 'stopped' });
	})();

	return {
		stop() {
			ctl.abort();
			return done;
		},
		done,
		get lastEventId() {
			return lastId;
		}
	};
}
