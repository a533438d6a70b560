// Pure helpers of the metrics screen: turn GET /metrics answers (sparse
// buckets) into dense series, scale them into SVG paths, and derive rates
// from the node's counters sampled by the page.

/**
 * Makes dense series from sparse buckets: one slot per step from since
 * (inclusive) to until (exclusive); empty slots count 0 and have no
 * latency (null, a gap in the line).
 * @param {{time: string, count: number, errors: number, p50_ms: number, p95_ms: number}[]} buckets
 * @param {string|number|Date} since
 * @param {string|number|Date} until
 * @param {number} stepSeconds
 */
export function densify(buckets, since, until, stepSeconds) {
	const step = stepSeconds * 1000;
	const t0 = new Date(since).getTime();
	const t1 = new Date(until).getTime();
	const n = step > 0 && t1 > t0 ? Math.ceil((t1 - t0) / step) : 0;
	/** @type {{t: number[], count: number[], errors: number[], p50: (number|null)[], p95: (number|null)[]}} */
	const out = { t: [], count: [], errors: [], p50: [], p95: [] };
	for (let i = 0; i < n; i++) {
		out.t.push(t0 + i * step);
		out.count.push(0);
		out.errors.push(0);
		out.p50.push(null);
		out.p95.push(null);
	}
	for (const b of buckets ?? []) {
		const i = Math.round((new Date(b.time).getTime() - t0) / step);
		if (i < 0 || i >= n) continue;
		out.count[i] += b.count ?? 0;
		out.errors[i] += b.errors ?? 0;
		out.p50[i] = b.p50_ms ?? null;
		out.p95[i] = b.p95_ms ?? null;
	}
	return out;
}

/**
 * Sums the request and error series of several scripts (latency is not
 * summable and is left out).
 * @param {{count: number[], errors: number[]}[]} series
 */
export function sumSeries(series) {
	const n = Math.max(0, ...series.map((s) => s.count.length));
	const count = new Array(n).fill(0);
	const errors = new Array(n).fill(0);
	for (const s of series) {
		s.count.forEach((v, i) => (count[i] += v));
		s.errors.forEach((v, i) => (errors[i] += v));
	}
	return { count, errors };
}

/**
 * A round upper bound for an axis: 1, 2 or 5 times a power of ten, at
 * least the largest value (and at least 1).
 * @param {number[]} values
 */
export function niceMax(values) {
	const m = Math.max(0, ...values.filter((v) => typeof v === 'number' && isFinite(v)));
	if (m <= 1) return 1;
	const p = 10 ** Math.floor(Math.log10(m));
	for (const f of [1, 2, 5, 10]) if (f * p >= m) return f * p;
	return 10 * p;
}

/**
 * An SVG path through the values, x evenly spread over width, y scaled to
 * max over height (0 at the bottom). A null value breaks the line.
 * @param {(number|null)[]} values
 * @param {number} width
 * @param {number} height
 * @param {number} max
 */
export function linePath(values, width, height, max) {
	const n = values.length;
	if (n === 0 || max <= 0) return '';
	const dx = n > 1 ? width / (n - 1) : 0;
	let d = '';
	let pen = false;
	values.forEach((v, i) => {
		if (v === null || v === undefined || !isFinite(v)) {
			pen = false;
			return;
		}
		const x = round(n > 1 ? i * dx : width / 2);
		const y = round(height - (Math.min(v, max) / max) * height);
		d += `${pen ? 'L' : 'M'}${x} ${y}`;
		pen = true;
	});
	return d;
}

/**
 * Bars for the values: [{x, y, w, h}] in a width × height box, one slot
 * per value with a small gap; zero values get no bar.
 * @param {number[]} values
 * @param {number} width
 * @param {number} height
 * @param {number} max
 */
export function bars(values, width, height, max) {
	const n = values.length;
	if (n === 0 || max <= 0) return [];
	const slot = width / n;
	const w = Math.max(1, slot * 0.8);
	const out = [];
	values.forEach((v, i) => {
		if (!v) return;
		const h = (Math.min(v, max) / max) * height;
		out.push({ i, x: round(i * slot + (slot - w) / 2), y: round(height - h), w: round(w), h: round(h) });
	});
	return out;
}

function round(v) {
	return Math.round(v * 10) / 10;
}

/**
 * Rates from a counter sampled over time: [{t, v}] → per-second rate
 * between consecutive samples (a counter that went down, after a
 * restart, counts from zero).
 * @param {{t: number, v: number}[]} samples
 */
export function counterRates(samples) {
	const out = [];
	for (let i = 1; i < samples.length; i++) {
		const a = samples[i - 1];
		const b = samples[i];
		const dt = (b.t - a.t) / 1000;
		if (dt <= 0) continue;
		const dv = b.v >= a.v ? b.v - a.v : b.v;
		out.push({ t: b.t, v: dv / dt });
	}
	return out;
}

/**
 * Keeps the last max samples after appending s.
 * @template T
 * @param {T[]} list
 * @param {T} s
 * @param {number} max
 */
export function pushSample(list, s, max) {
	const out = list.concat([s]);
	return out.length > max ? out.slice(out.length - max) : out;
}

/**
 * Short time label for an axis: "14:05" (with seconds under 5-minute
 * steps would be noise; steps of a day show the date).
 * @param {number} t ms since the epoch
 * @param {number} stepSeconds
 */
export function axisLabel(t, stepSeconds) {
	const d = new Date(t);
	const p = (n) => String(n).padStart(2, '0');
	if (stepSeconds >= 86400) return `${d.getMonth() + 1}/${d.getDate()}`;
	if (stepSeconds < 60) return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
	return `${p(d.getHours())}:${p(d.getMinutes())}`;
}
