// Pure helpers of the logs screen: query strings for the log endpoints,
// merging live events into the list, client-side search, formatting.

export const LEVELS = ['debug', 'info', 'warn', 'error'];
export const OUTCOMES = ['success', 'error', 'timeout', 'limit'];

/**
 * Builds the query string shared by GET /executions and /logs/tail from
 * the screen's filters; empty filters are left out.
 * @param {{app: string, script?: string, level?: string, outcome?: string, cursor?: string, limit?: number, lines?: boolean}} f
 */
export function logQuery(f) {
	const q = new URLSearchParams();
	q.set('app', f.app);
	if (f.script) q.set('script', f.script);
	// A level keeps only executions with such a line (and only those
	// lines); no level lists every execution.
	if (f.level) q.set('level', f.level);
	if (f.outcome) q.set('outcome', f.outcome);
	if (f.limit) q.set('limit', String(f.limit));
	if (f.cursor) q.set('cursor', f.cursor);
	if (f.lines) q.set('lines', 'true');
	return q.toString();
}

/**
 * Adds executions to a newest-first list: skips ones already present
 * (same seq), keeps the order by seq descending and at most max items.
 * @param {any[]} list
 * @param {any[]} items
 * @param {number} [max]
 */
export function mergeExecutions(list, items, max = 1000) {
	const seen = new Set(list.map((e) => e.seq));
	const fresh = items.filter((e) => e && typeof e.seq === 'number' && !seen.has(e.seq) && (seen.add(e.seq), true));
	if (fresh.length === 0) return list;
	const out = list.concat(fresh);
	out.sort((a, b) => b.seq - a.seq);
	return out.length > max ? out.slice(0, max) : out;
}

/**
 * Parses the data of an `execution` event; null when it is not one.
 * @param {{event: string, data: string}} e
 */
export function executionFromEvent(e) {
	if (e.event !== 'execution') return null;
	try {
		const x = JSON.parse(e.data);
		return x && typeof x === 'object' && typeof x.seq === 'number' ? x : null;
	} catch {
		return null;
	}
}

/**
 * Whether an execution matches a free-text search (case-insensitive) in
 * its path, script, status, outcome, error, request or execution id, or
 * any of its console lines.
 * @param {any} e
 * @param {string} q
 */
export function matchesSearch(e, q) {
	const needle = q.trim().toLowerCase();
	if (!needle) return true;
	const hay = [e.path, e.script, e.method, String(e.status ?? ''), e.outcome, e.error, e.request_id, e.id];
	if (hay.some((s) => typeof s === 'string' && s.toLowerCase().includes(needle))) return true;
	return (e.logs ?? []).some((l) => typeof l.message === 'string' && l.message.toLowerCase().includes(needle));
}

/**
 * Formats a duration given in milliseconds: "850 µs", "12.3 ms", "1.52 s".
 * @param {number} ms
 */
export function formatDuration(ms) {
	if (typeof ms !== 'number' || !isFinite(ms) || ms < 0) return '–';
	if (ms < 1) return `${Math.round(ms * 1000)} µs`;
	if (ms < 100) return `${ms.toFixed(1)} ms`;
	if (ms < 1000) return `${Math.round(ms)} ms`;
	return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * Time of day with milliseconds, in the browser's zone: "14:03:07.215".
 * @param {string} iso
 */
export function formatTime(iso) {
	const d = new Date(iso);
	if (isNaN(d.getTime())) return '';
	const p = (n, w = 2) => String(n).padStart(w, '0');
	return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
