// A small line diff (Myers' O(ND) algorithm) for comparing script versions,
// so the dashboard needs no diff library.

/**
 * @typedef {{type: 'same' | 'add' | 'del', text: string, a?: number, b?: number}} DiffLine
 *   a and b are 1-based line numbers in the old and new text.
 */

/** @param {string} s */
function lines(s) {
	if (s === '') return [];
	const l = s.split('\n');
	// A trailing newline does not make an extra empty line.
	if (l[l.length - 1] === '') l.pop();
	return l;
}

/**
 * Diffs two texts line by line.
 * @param {string} oldText
 * @param {string} newText
 * @returns {DiffLine[]}
 */
export function diffLines(oldText, newText) {
	const a = lines(oldText);
	const b = lines(newText);
	// Common prefix and suffix cost nothing.
	let pre = 0;
	while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
	let suf = 0;
	while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
	const ma = a.slice(pre, a.length - suf);
	const mb = b.slice(pre, b.length - suf);

	/** @type {DiffLine[]} */
	const out = [];
	for (let i = 0; i < pre; i++) out.push({ type: 'same', text: a[i], a: i + 1, b: i + 1 });
	for (const op of myers(ma, mb)) {
		if (op.type === 'same') out.push({ type: 'same', text: ma[op.i], a: pre + op.i + 1, b: pre + op.j + 1 });
		else if (op.type === 'del') out.push({ type: 'del', text: ma[op.i], a: pre + op.i + 1 });
		else out.push({ type: 'add', text: mb[op.j], b: pre + op.j + 1 });
	}
	for (let k = 0; k < suf; k++) {
		const i = a.length - suf + k;
		const j = b.length - suf + k;
		out.push({ type: 'same', text: a[i], a: i + 1, b: j + 1 });
	}
	return out;
}

/**
 * @param {string[]} a
 * @param {string[]} b
 * @returns {{type: 'same' | 'add' | 'del', i: number, j: number}[]}
 */
function myers(a, b) {
	const n = a.length;
	const m = b.length;
	if (n === 0) return b.map((_, j) => ({ type: 'add', i: 0, j }));
	if (m === 0) return a.map((_, i) => ({ type: 'del', i, j: 0 }));
	const max = n + m;
	const off = max;
	let v = new Int32Array(2 * max + 2);
	/** @type {Int32Array[]} */
	const trace = [];
	let found = false;
	for (let d = 0; d <= max && !found; d++) {
		trace.push(v.slice());
		for (let k = -d; k <= d; k += 2) {
			let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
			let y = x - k;
			while (x < n && y < m && a[x] === b[y]) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = true;
				break;
			}
		}
	}
	trace.push(v.slice());
	// Walk back from (n, m) through the saved frontiers.
	/** @type {{type: 'same' | 'add' | 'del', i: number, j: number}[]} */
	const ops = [];
	let x = n;
	let y = m;
	for (let d = trace.length - 2; d > 0; d--) {
		const pv = trace[d];
		const k = x - y;
		const prevK = k === -d || (k !== d && pv[off + k - 1] < pv[off + k + 1]) ? k + 1 : k - 1;
		const prevX = pv[off + prevK];
		const prevY = prevX - prevK;
		while (x > prevX && y > prevY) {
			x--;
			y--;
			ops.push({ type: 'same', i: x, j: y });
		}
		if (x === prevX) {
			y--;
			ops.push({ type: 'add', i: x, j: y });
		} else {
			x--;
			ops.push({ type: 'del', i: x, j: y });
		}
	}
	while (x > 0 && y > 0) {
		x--;
		y--;
		ops.push({ type: 'same', i: x, j: y });
	}
	return ops.reverse();
}

/**
 * Keeps only changed lines and `context` lines around them; runs of
 * unchanged lines in between become one {type: 'skip', count} entry.
 * @param {DiffLine[]} d
 * @param {number} [context]
 * @returns {(DiffLine | {type: 'skip', count: number})[]}
 */
export function withContext(d, context = 3) {
	const keep = new Array(d.length).fill(false);
	d.forEach((l, i) => {
		if (l.type === 'same') return;
		for (let k = Math.max(0, i - context); k <= Math.min(d.length - 1, i + context); k++) keep[k] = true;
	});
	/** @type {(DiffLine | {type: 'skip', count: number})[]} */
	const out = [];
	let skipped = 0;
	d.forEach((l, i) => {
		if (keep[i]) {
			if (skipped) out.push({ type: 'skip', count: skipped });
			skipped = 0;
			out.push(l);
		} else {
			skipped++;
		}
	});
	if (skipped) out.push({ type: 'skip', count: skipped });
	return out;
}

/** @param {DiffLine[]} d */
export function diffStats(d) {
	let add = 0;
	let del = 0;
	for (const l of d) {
		if (l.type === 'add') add++;
		else if (l.type === 'del') del++;
	}
	return { add, del };
}
