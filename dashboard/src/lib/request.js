// Pure helpers of the test panel: parse what the user typed, describe what
// came back.

/**
 * Parses "Name: value" lines; blank lines and lines starting with # are
 * skipped. Throws on a line without a colon or an invalid header name.
 * @param {string} text
 * @returns {[string, string][]}
 */
export function parseHeaders(text) {
	/** @type {[string, string][]} */
	const out = [];
	const lines = text.split(/\r?\n/);
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i].trim();
		if (!line || line.startsWith('#')) continue;
		const idx = line.indexOf(':');
		if (idx <= 0) throw new Error(`Header line ${i + 1} needs the form "Name: value"`);
		const name = line.slice(0, idx).trim();
		if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Error(`Header line ${i + 1}: "${name}" is not a valid header name`);
		out.push([name, line.slice(idx + 1).trim()]);
	}
	return out;
}

/** Methods whose requests may carry a body. */
export function allowsBody(method) {
	return !['GET', 'HEAD'].includes(method.toUpperCase());
}

/**
 * Builds the URL of the execute endpoint for a script id plus an optional
 * query string ("?a=1" or "a=1").
 * @param {string} id
 * @param {string} [query]
 */
export function executeURL(id, query = '') {
	const q = query.trim().replace(/^\?/, '');
	return `/api/v1/execute/${encodeURIComponent(id)}${q ? `?${q}` : ''}`;
}

/**
 * Pretty-prints a JSON body, or returns the text as it is.
 * @param {string} text
 * @param {string | null} contentType
 */
export function formatBody(text, contentType) {
	if (contentType && /\bjson\b/i.test(contentType)) {
		try {
			return JSON.stringify(JSON.parse(text), null, 2);
		} catch {
			return text;
		}
	}
	return text;
}
