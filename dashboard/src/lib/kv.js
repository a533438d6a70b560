// Pure helpers of the KV browser: paths of the KV endpoints, how a stored
// value is shown (JSON pretty, text, or hex for binary), and checking what
// the user typed before a put.

/**
 * Path of a KV value: the key may contain "/" (the rest of the path is
 * the key); everything else reserved is percent-encoded.
 * @param {string} app
 * @param {string} ns
 * @param {string} key
 */
export function valuePath(app, ns, key) {
	const k = key.split('/').map(encodeURIComponent).join('/');
	return `/apps/${encodeURIComponent(app)}/kv/${encodeURIComponent(ns)}/values/${k}`;
}

/**
 * Path of a page of keys.
 * @param {string} app
 * @param {string} ns
 * @param {{prefix?: string, cursor?: string, limit?: number}} o
 */
export function keysPath(app, ns, o = {}) {
	const q = new URLSearchParams();
	if (o.prefix) q.set('prefix', o.prefix);
	if (o.cursor) q.set('cursor', o.cursor);
	if (o.limit) q.set('limit', String(o.limit));
	const qs = q.toString();
	return `/apps/${encodeURIComponent(app)}/kv/${encodeURIComponent(ns)}/keys${qs ? `?${qs}` : ''}`;
}

/**
 * Decides how to show a value: valid UTF-8 that parses as JSON (an object
 * or array) is pretty-printed; other valid UTF-8 without control
 * characters is text; anything else is binary, shown as hex.
 * @param {Uint8Array} bytes
 * @returns {{kind: 'json'|'text'|'binary', text: string, size: number}}
 */
export function renderValue(bytes) {
	const size = bytes.length;
	let text;
	try {
		text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
	} catch {
		return { kind: 'binary', text: hexDump(bytes), size };
	}
	// NUL and other C0 controls (except tab, newline, CR) mean binary.
	if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return { kind: 'binary', text: hexDump(bytes), size };
	const t = text.trim();
	if (t.startsWith('{') || t.startsWith('[')) {
		try {
			return { kind: 'json', text: JSON.stringify(JSON.parse(t), null, 2), size };
		} catch {
			// Not JSON after all: show it as text.
		}
	}
	return { kind: 'text', text, size };
}

/**
 * Classic hex dump, 16 bytes a line: offset, hex, printable ASCII. Only
 * the first max bytes are dumped; a last line says how many were left.
 * @param {Uint8Array} bytes
 * @param {number} [max]
 */
export function hexDump(bytes, max = 4096) {
	const lines = [];
	const n = Math.min(bytes.length, max);
	for (let off = 0; off < n; off += 16) {
		const row = bytes.subarray(off, Math.min(off + 16, n));
		const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
		const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
		lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
	}
	if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
	return lines.join('\n');
}

/**
 * "512 B", "1.5 KiB", "3.2 MiB".
 * @param {number} n
 */
export function formatBytes(n) {
	if (n < 1024) return `${n} B`;
	if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
	return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Checks the put form and returns what to send, or throws an Error with
 * a message for the user. ttl: seconds, empty for none (at least 60, as
 * Workers KV); metadata: JSON, empty for none (at most 1024 bytes).
 * @param {{key: string, ttl: string, metadata: string}} f
 * @returns {{query: string, headers: Record<string, string>}}
 */
export function putOptions(f) {
	const key = f.key;
	if (!key) throw new Error('Enter a key');
	if (key === '.' || key === '..') throw new Error(`"${key}" cannot be used as a key`);
	if (new TextEncoder().encode(key).length > 512) throw new Error('A key is at most 512 bytes');
	/** @type {Record<string, string>} */
	const headers = {};
	let query = '';
	const ttl = String(f.ttl ?? '').trim();
	if (ttl) {
		if (!/^\d+$/.test(ttl) || Number(ttl) < 60) throw new Error('Expiration TTL must be a whole number of seconds, at least 60');
		query = `?expiration_ttl=${ttl}`;
	}
	const meta = String(f.metadata ?? '').trim();
	if (meta) {
		let parsed;
		try {
			parsed = JSON.parse(meta);
		} catch (e) {
			throw new Error(`Metadata is not valid JSON: ${e instanceof Error ? e.message : e}`);
		}
		const compact = JSON.stringify(parsed);
		if (new TextEncoder().encode(compact).length > 1024) throw new Error('Metadata is at most 1024 bytes of JSON');
		// Header values must be Latin-1: escape the rest as JSON \u escapes.
		headers['X-PiCloud-KV-Metadata'] = compact.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
	}
	return { query, headers };
}

/**
 * "in 59 min", "in 2 h", "expired" for an expiration in unix seconds.
 * @param {number | null | undefined} exp
 * @param {number} [now] ms
 */
export function expiresIn(exp, now = Date.now()) {
	if (!exp) return '';
	const s = exp - now / 1000;
	if (s <= 0) return 'expired';
	if (s < 90) return `in ${Math.round(s)} s`;
	if (s < 90 * 60) return `in ${Math.round(s / 60)} min`;
	if (s < 48 * 3600) return `in ${Math.round(s / 3600)} h`;
	return `in ${Math.round(s / 86400)} days`;
}
