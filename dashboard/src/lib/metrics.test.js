import { describe, it, expect } from 'vitest';
import { densify, sumSeries, niceMax, linePath, bars, counterRates, pushSample } from './metrics.js';

describe('densify', () => {
	const since = '2026-01-01T10:00:00Z';
	const until = '2026-01-01T10:05:00Z';
	it('fills empty buckets with zero counts and null latency', () => {
		const got = densify(
			[
				{ time: '2026-01-01T10:01:00Z', count: 3, errors: 1, p50_ms: 2, p95_ms: 4.8 },
				{ time: '2026-01-01T10:04:00Z', count: 1, errors: 0, p50_ms: 9, p95_ms: 9 }
			],
			since,
			until,
			60
		);
		expect(got.t.length).toBe(5);
		expect(got.t[0]).toBe(Date.parse(since));
		expect(got.count).toEqual([0, 3, 0, 0, 1]);
		expect(got.errors).toEqual([0, 1, 0, 0, 0]);
		expect(got.p50).toEqual([null, 2, null, null, 9]);
		expect(got.p95).toEqual([null, 4.8, null, null, 9]);
	});
	it('drops buckets outside the range; a partial last bucket counts', () => {
		const got = densify([{ time: '2026-01-01T09:59:00Z', count: 5 }, { time: '2026-01-01T10:05:00Z', count: 2 }], since, '2026-01-01T10:05:30Z', 60);
		expect(got.count).toEqual([0, 0, 0, 0, 0, 2]);
	});
	it('empty or inverted range', () => {
		expect(densify([], until, since, 60).t).toEqual([]);
		expect(densify(null, since, until, 0).t).toEqual([]);
	});
});

describe('sumSeries', () => {
	it('adds counts and errors slot by slot', () => {
		expect(sumSeries([{ count: [1, 2], errors: [0, 1] }, { count: [3, 0], errors: [1, 0] }])).toEqual({ count: [4, 2], errors: [1, 1] });
		expect(sumSeries([])).toEqual({ count: [], errors: [] });
	});
});

describe('niceMax', () => {
	const cases = [
		[[], 1],
		[[0.3], 1],
		[[3], 5],
		[[7, 2], 10],
		[[11], 20],
		[[120, null, NaN], 200],
		[[4800], 5000]
	];
	for (const [v, want] of cases) it(`${JSON.stringify(v)} → ${want}`, () => expect(niceMax(v)).toBe(want));
});

describe('linePath', () => {
	it('scales into the box with y down and breaks on null', () => {
		expect(linePath([0, 5, null, 10, 10], 100, 50, 10)).toBe('M0 50L25 25M75 0L100 0');
	});
	it('clips values over max and centers a single point', () => {
		expect(linePath([20], 100, 50, 10)).toBe('M50 0');
	});
	it('nothing to draw', () => {
		expect(linePath([], 100, 50, 10)).toBe('');
		expect(linePath([null], 100, 50, 10)).toBe('');
	});
});

describe('bars', () => {
	it('one slot per value, zero gets no bar', () => {
		expect(bars([0, 5, 10], 30, 20, 10)).toEqual([
			{ i: 1, x: 11, y: 10, w: 8, h: 10 },
			{ i: 2, x: 21, y: 0, w: 8, h: 20 }
		]);
	});
});

describe('counterRates', () => {
	it('per-second rates between samples; a reset counts from zero', () => {
		const s = [
			{ t: 0, v: 10 },
			{ t: 2000, v: 14 },
			{ t: 4000, v: 14 },
			{ t: 5000, v: 3 }
		];
		expect(counterRates(s)).toEqual([
			{ t: 2000, v: 2 },
			{ t: 4000, v: 0 },
			{ t: 5000, v: 3 }
		]);
	});
	it('pushSample keeps the last n', () => {
		expect(pushSample([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
	});
});
