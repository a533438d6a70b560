// Cron triggers of a script as editable rows, the PUT body built from them,
// the API's per-entry errors mapped back onto the rows, and time labels.
// The API's shapes are in docs/cron.md.
import { ApiError } from './api.js';

/** A script has at most this many triggers (manager.MaxCronsPerScript). */
export const MAX_CRONS = 10;
export const DEFAULT_TIMEZONE = 'UTC';

/** @typedef {{schedule: string, timezone: string}} CronRow */

/**
 * Rows from GET /scripts/{id}/crons's `crons` (in the order set).
 * @param {any} crons
 * @returns {CronRow[]}
 */
export function rowsFromCrons(crons) {
	if (!Array.isArray(crons)) return [];
	return crons.map((c) => ({
		schedule: typeof c?.schedule === 'string' ? c.schedule : '',
		timezone: typeof c?.timezone === 'string' && c.timezone ? c.timezone : DEFAULT_TIMEZONE
	}));
}

/** A fresh row: every second would be a surprising default, so none. */
export function newRow() {
	return { schedule: '', timezone: DEFAULT_TIMEZONE };
}

/**
 * The PUT body for rows: the whole set, trimmed, an empty zone as UTC.
 * No rows is {"crons": []}, which removes every trigger. Rows are sent as
 * typed otherwise, so the API's error indexes match the rows.
 * @param {CronRow[]} rows
 */
export function cronBody(rows) {
	return {
		crons: rows.map((r) => ({
			schedule: (r.schedule ?? '').trim(),
			timezone: (r.timezone ?? '').trim() || DEFAULT_TIMEZONE
		}))
	};
}

/**
 * Whether rows say the same as the stored set (so there is nothing to save).
 * @param {CronRow[]} rows
 * @param {any} crons as the API answers
 */
export function sameCrons(rows, crons) {
	return JSON.stringify(cronBody(rows)) === JSON.stringify(cronBody(rowsFromCrons(crons)));
}

/**
 * Spreads a failed PUT over the rows: errors[i] = {schedule, timezone}
 * messages for row i ('' when none), from details.errors of a 422
 * invalid_cron. `general` is what belongs to no row (too_many_crons, a
 * network error, or an index out of range), '' when all is placed.
 * @param {unknown} err
 * @param {number} n number of rows
 * @returns {{rows: {schedule: string, timezone: string}[], general: string}}
 */
export function errorsForRows(err, n) {
	const rows = Array.from({ length: n }, () => ({ schedule: '', timezone: '' }));
	const message = err instanceof Error ? err.message : String(err);
	const list = err instanceof ApiError && err.code === 'invalid_cron' && Array.isArray(err.details?.errors) ? err.details.errors : null;
	if (!list) return { rows, general: message };
	const stray = [];
	for (const p of list) {
		const i = p?.index;
		const field = p?.field === 'timezone' ? 'timezone' : 'schedule';
		const msg = typeof p?.message === 'string' && p.message ? p.message : 'invalid';
		if (Number.isInteger(i) && i >= 0 && i < n) {
			rows[i][field] = rows[i][field] ? `${rows[i][field]}; ${msg}` : msg;
		} else {
			stray.push(`crons[${i}].${field}: ${msg}`);
		}
	}
	return { rows, general: stray.join('; ') };
}

/** "1 trigger", "3 triggers". @param {number} n */
export function triggers(n) {
	return `${n} trigger${n === 1 ? '' : 's'}`;
}

/**
 * "in 3 s", "12 min ago", "now" for an ISO time, relative to now (ms).
 * '' for no time.
 * @param {string | null | undefined} iso
 * @param {number} [now]
 */
export function relativeTime(iso, now = Date.now()) {
	if (!iso) return '';
	const t = new Date(iso).getTime();
	if (isNaN(t)) return '';
	const d = (t - now) / 1000;
	const s = Math.abs(d);
	if (s < 0.5) return 'now';
	let n;
	if (s < 90) n = `${Math.round(s)} s`;
	else if (s < 90 * 60) n = `${Math.round(s / 60)} min`;
	else if (s < 48 * 3600) n = `${Math.round(s / 3600)} h`;
	else n = `${Math.round(s / 86400)} days`;
	return d > 0 ? `in ${n}` : `${n} ago`;
}

/**
 * The absolute time in the browser's zone, as elsewhere in the dashboard.
 * @param {string | null | undefined} iso
 */
export function absoluteTime(iso) {
	if (!iso) return '';
	const d = new Date(iso);
	return isNaN(d.getTime()) ? '' : d.toLocaleString();
}
