import { describe, it, expect } from 'vitest';
import { diagnosticFromDetails } from './lint.js';

const doc = 'export default {\n  fetch() { return 1 +; }\n};\n';

describe('diagnosticFromDetails', () => {
	const cases = [
		{ name: 'token at position', details: { line: 2, column: 3, message: 'm' }, want: { from: 19, to: 24, message: 'm' } },
		{ name: 'punctuation marks one char', details: { line: 2, column: 23, message: 'Unexpected ";"' }, want: { from: 39, to: 40, message: 'Unexpected ";"' } },
		{ name: 'first line first column', details: { line: 1, column: 1 }, want: { from: 0, to: 6, message: 'fallback' } },
		{ name: 'column past line end clamps', details: { line: 3, column: 99 }, want: { from: 45, to: 45, message: 'fallback' } },
		{ name: 'missing column means start of line', details: { line: 2 }, want: { from: 17, to: 18, message: 'fallback' } },
		{ name: 'line past the end marks the last char', details: { line: 40, column: 1, message: 'eof' }, want: { from: doc.length - 1, to: doc.length, message: 'eof' } }
	];
	for (const c of cases) {
		it(c.name, () => {
			const d = diagnosticFromDetails(doc, c.details, 'fallback');
			expect(d).toEqual({ ...c.want, severity: 'error' });
			expect(d.from).toBeLessThanOrEqual(d.to);
			expect(d.to).toBeLessThanOrEqual(doc.length);
		});
	}
	it.each([['null', null], ['no line', { column: 3 }], ['zero line', { line: 0 }], ['string', 'x'], ['fractional', { line: 1.5 }]])(
		'no diagnostic for %s',
		(_n, details) => {
			expect(diagnosticFromDetails(doc, details)).toBeNull();
		}
	);
});
