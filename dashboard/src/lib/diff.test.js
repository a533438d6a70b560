import { describe, it, expect } from 'vitest';
import { diffLines, withContext, diffStats } from './diff.js';

// Rebuilds both sides from a diff: every diff must do that exactly.
function sides(d) {
	const a = d.filter((l) => l.type !== 'add').map((l) => l.text);
	const b = d.filter((l) => l.type !== 'del').map((l) => l.text);
	return [a, b];
}

function lines(s) {
	const l = s.split('\n');
	if (l[l.length - 1] === '') l.pop();
	return s === '' ? [] : l;
}

describe('diffLines', () => {
	const cases = [
		{ name: 'equal', a: 'x\ny\n', b: 'x\ny\n', add: 0, del: 0 },
		{ name: 'both empty', a: '', b: '', add: 0, del: 0 },
		{ name: 'from empty', a: '', b: 'a\nb\n', add: 2, del: 0 },
		{ name: 'to empty', a: 'a\nb', b: '', add: 0, del: 2 },
		{ name: 'one line changed', a: 'a\nb\nc\n', b: 'a\nB\nc\n', add: 1, del: 1 },
		{ name: 'insert in middle', a: 'a\nc\n', b: 'a\nb\nc\n', add: 1, del: 0 },
		{ name: 'delete at start', a: 'a\nb\nc\n', b: 'b\nc\n', add: 0, del: 1 },
		{ name: 'classic ABCABBA', a: 'A\nB\nC\nA\nB\nB\nA', b: 'C\nB\nA\nB\nA\nC', add: 2, del: 3 },
		{ name: 'trailing newline ignored', a: 'a\nb', b: 'a\nb\n', add: 0, del: 0 }
	];
	for (const c of cases) {
		it(c.name, () => {
			const d = diffLines(c.a, c.b);
			const [a, b] = sides(d);
			expect(a).toEqual(lines(c.a));
			expect(b).toEqual(lines(c.b));
			expect(diffStats(d)).toEqual({ add: c.add, del: c.del });
		});
	}

	it('numbers lines on both sides', () => {
		const d = diffLines('a\nb\nc\n', 'a\nx\nc\n');
		expect(d).toEqual([
			{ type: 'same', text: 'a', a: 1, b: 1 },
			{ type: 'del', text: 'b', a: 2 },
			{ type: 'add', text: 'x', b: 2 },
			{ type: 'same', text: 'c', a: 3, b: 3 }
		]);
	});

	it('is minimal and reversible on random texts', () => {
		let seed = 7;
		const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
		for (let t = 0; t < 200; t++) {
			const mk = () => Array.from({ length: Math.floor(rnd() * 12) }, () => 'abc'[Math.floor(rnd() * 3)]).join('\n');
			const x = mk();
			const y = mk();
			const d = diffLines(x, y);
			const [a, b] = sides(d);
			expect(a).toEqual(lines(x));
			expect(b).toEqual(lines(y));
			// Minimal: edits = n + m - 2 * LCS.
			const la = lines(x);
			const lb = lines(y);
			const dp = Array.from({ length: la.length + 1 }, () => new Array(lb.length + 1).fill(0));
			for (let i = 1; i <= la.length; i++)
				for (let j = 1; j <= lb.length; j++)
					dp[i][j] = la[i - 1] === lb[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
			const s = diffStats(d);
			expect(s.add + s.del).toBe(la.length + lb.length - 2 * dp[la.length][lb.length]);
		}
	});
});

describe('withContext', () => {
	it('folds long unchanged runs', () => {
		const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
		const b = a.replace('l10', 'L10');
		const out = withContext(diffLines(a, b), 2);
		expect(out[0]).toEqual({ type: 'skip', count: 8 });
		expect(out.filter((l) => l.type !== 'skip').map((l) => l.text)).toEqual(['l8', 'l9', 'l10', 'L10', 'l11', 'l12']);
		expect(out[out.length - 1]).toEqual({ type: 'skip', count: 7 });
	});
	it('folds everything when nothing changed', () => {
		expect(withContext(diffLines('a\nb', 'a\nb'))).toEqual([{ type: 'skip', count: 2 }]);
	});
});
