import { describe, it, expect } from 'vitest';
import { rowsFromCrons, cronBody, sameCrons, errorsForRows, relativeTime, absoluteTime, newRow, triggers } from './cron.js';
import { ApiError } from './api.js';

const stored = [
	{ id: 'a', script_id: 's', schedule: '*/5 * * * * *', timezone: 'Europe/Paris', next_run_at: '2026-11-27T10:00:05Z', last_run_at: null, created_at: '2026-11-27T10:00:00Z' },
	{ id: 'b', script_id: 's', schedule: '@hourly', timezone: 'UTC', next_run_at: '2026-11-27T11:00:00Z', last_run_at: '2026-11-27T10:00:00Z', created_at: '2026-11-27T09:00:00Z' }
];

describe('rowsFromCrons', () => {
	it('keeps schedule and zone, in order', () => {
		expect(rowsFromCrons(stored)).toEqual([
			{ schedule: '*/5 * * * * *', timezone: 'Europe/Paris' },
			{ schedule: '@hourly', timezone: 'UTC' }
		]);
	});
	it('accepts nothing and fills a missing zone with UTC', () => {
		expect(rowsFromCrons(null)).toEqual([]);
		expect(rowsFromCrons({})).toEqual([]);
		expect(rowsFromCrons([{ schedule: '@daily' }])).toEqual([{ schedule: '@daily', timezone: 'UTC' }]);
	});
	it('new rows default to UTC', () => {
		expect(newRow()).toEqual({ schedule: '', timezone: 'UTC' });
	});
});

describe('cronBody', () => {
	const cases = [
		{ name: 'empty set clears', rows: [], want: { crons: [] } },
		{ name: 'trims', rows: [{ schedule: '  * * * * * * ', timezone: ' Asia/Tokyo ' }], want: { crons: [{ schedule: '* * * * * *', timezone: 'Asia/Tokyo' }] } },
		{ name: 'empty zone is UTC', rows: [{ schedule: '@daily', timezone: '  ' }], want: { crons: [{ schedule: '@daily', timezone: 'UTC' }] } },
		{
			name: 'keeps bad and empty rows so indexes match',
			rows: [{ schedule: '', timezone: 'UTC' }, { schedule: 'nope', timezone: 'UTC' }],
			want: { crons: [{ schedule: '', timezone: 'UTC' }, { schedule: 'nope', timezone: 'UTC' }] }
		}
	];
	for (const c of cases) it(c.name, () => expect(cronBody(c.rows)).toEqual(c.want));
});

describe('sameCrons', () => {
	it('compares rows with the stored set', () => {
		expect(sameCrons(rowsFromCrons(stored), stored)).toBe(true);
		expect(sameCrons([{ schedule: ' @hourly', timezone: '' }], [stored[1]])).toBe(true);
		expect(sameCrons([], stored)).toBe(false);
		expect(sameCrons(rowsFromCrons(stored).reverse(), stored)).toBe(false);
	});
});

describe('errorsForRows', () => {
	const invalid = (errors) =>
		new ApiError({ status: 422, code: 'invalid_cron', message: 'crons[1].schedule: invalid cron schedule', details: { errors } });
	it('puts each error on the row and field it names', () => {
		const got = errorsForRows(
			invalid([
				{ index: 1, field: 'schedule', message: 'invalid cron schedule: expected 5 or 6 fields' },
				{ index: 2, field: 'timezone', message: 'unknown time zone "Mars/Base"' }
			]),
			3
		);
		expect(got.general).toBe('');
		expect(got.rows).toEqual([
			{ schedule: '', timezone: '' },
			{ schedule: 'invalid cron schedule: expected 5 or 6 fields', timezone: '' },
			{ schedule: '', timezone: 'unknown time zone "Mars/Base"' }
		]);
	});
	it('joins two errors of one field', () => {
		const got = errorsForRows(invalid([{ index: 0, field: 'schedule', message: 'a' }, { index: 0, field: 'schedule', message: 'b' }]), 1);
		expect(got.rows[0].schedule).toBe('a; b');
	});
	it('an index out of range becomes a general message', () => {
		const got = errorsForRows(invalid([{ index: 5, field: 'schedule', message: 'bad' }]), 2);
		expect(got.rows.every((r) => !r.schedule && !r.timezone)).toBe(true);
		expect(got.general).toBe('crons[5].schedule: bad');
	});
	it('other errors are general', () => {
		const tooMany = new ApiError({ status: 422, code: 'too_many_crons', message: 'a script has at most 10 cron triggers, 11 given', details: { max: 10, given: 11 } });
		expect(errorsForRows(tooMany, 11).general).toMatch(/at most 10/);
		expect(errorsForRows(new ApiError({ status: 0, code: 'network', message: 'The node cannot be reached' }), 1)).toEqual({
			rows: [{ schedule: '', timezone: '' }],
			general: 'The node cannot be reached'
		});
	});
});

describe('relativeTime', () => {
	const now = Date.parse('2026-11-27T10:00:00Z');
	const cases = [
		{ iso: null, want: '' },
		{ iso: 'not a time', want: '' },
		{ iso: '2026-11-27T10:00:00.200Z', want: 'now' },
		{ iso: '2026-11-27T10:00:03Z', want: 'in 3 s' },
		{ iso: '2026-11-27T09:59:48Z', want: '12 s ago' },
		{ iso: '2026-11-27T10:05:00Z', want: 'in 5 min' },
		{ iso: '2026-11-27T07:00:00Z', want: '3 h ago' },
		{ iso: '2026-11-30T10:00:00Z', want: 'in 3 days' }
	];
	for (const c of cases) it(`${c.iso} → ${JSON.stringify(c.want)}`, () => expect(relativeTime(c.iso, now)).toBe(c.want));
});

describe('absoluteTime', () => {
	it('formats in the local zone, empty for nothing', () => {
		expect(absoluteTime('2026-11-27T10:00:00Z')).toBe(new Date('2026-11-27T10:00:00Z').toLocaleString());
		expect(absoluteTime(null)).toBe('');
		expect(absoluteTime('x')).toBe('');
	});
});

describe('triggers', () => {
	it('counts', () => {
		expect(triggers(0)).toBe('0 triggers');
		expect(triggers(1)).toBe('1 trigger');
		expect(triggers(10)).toBe('10 triggers');
	});
});
