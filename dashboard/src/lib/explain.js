// Turns the details of well-known API errors into short extra lines shown
// beside the message (which api.js already makes readable).
import { ApiError } from './api.js';

/**
 * A route as one line: "GET api.example.com/users/:id → users.js".
 * @param {{method?: string, host?: string, path?: string, script?: string}} r
 */
export function routeLabel(r) {
	const m = !r.method || r.method === '*' ? 'ANY' : r.method;
	const s = r.script ? ` → ${r.script}` : '';
	return `${m} ${r.host || ''}${r.path ?? ''}${s}`;
}

/**
 * The extra line for a conflict, or '' when err carries none.
 * @param {unknown} err
 */
export function conflictNote(err) {
	if (!(err instanceof ApiError) || !err.details) return '';
	const d = err.details;
	if (err.code === 'route_conflict' && d.conflicting_route) {
		return `Conflicts with the route ${routeLabel(d.conflicting_route)}`;
	}
	if (err.code === 'domain_conflict' && d.conflicting_claim) {
		const c = d.conflicting_claim;
		return `${c.pattern} is claimed by ${c.app ? `app ${c.app}` : 'another app'}`;
	}
	return '';
}

/**
 * For a pattern parse error: the input and a caret under the position, so
 * the mistake can be seen. null when err has no position.
 * @param {unknown} err
 * @returns {{field: string, input: string, caret: string} | null}
 */
export function patternCaret(err) {
	if (!(err instanceof ApiError) || !err.details) return null;
	const { input, position, field } = err.details;
	if (typeof input !== 'string' || typeof position !== 'number' || position < 0) return null;
	const p = Math.min(position, input.length);
	return { field: typeof field === 'string' ? field : '', input, caret: ' '.repeat(p) + '^' };
}
