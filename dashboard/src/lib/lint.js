// Turns a deploy's syntax_error details ({line, column, message}, both
// 1-based) into a CodeMirror diagnostic range over the document text.

/**
 * @param {string} doc the source that was deployed
 * @param {{line?: number, column?: number, message?: string} | null | undefined} details
 * @param {string} [fallbackMessage]
 * @returns {{from: number, to: number, severity: 'error', message: string} | null}
 */
export function diagnosticFromDetails(doc, details, fallbackMessage = 'syntax error') {
	if (!details || typeof details !== 'object') return null;
	const line = Number(details.line);
	if (!Number.isInteger(line) || line < 1) return null;
	const lines = doc.split('\n');
	const message = typeof details.message === 'string' && details.message ? details.message : fallbackMessage;
	if (line > lines.length) {
		// Past the end (e.g. "unexpected end of file"): mark the last char.
		return { from: Math.max(0, doc.length - 1), to: doc.length, severity: 'error', message };
	}
	let start = 0;
	for (let i = 0; i < line - 1; i++) start += lines[i].length + 1;
	const text = lines[line - 1];
	let col = Number(details.column);
	if (!Number.isInteger(col) || col < 1) col = 1;
	col = Math.min(col, text.length + 1);
	const from = start + col - 1;
	// Mark the token at the position (or one char), never across lines.
	const rest = text.slice(col - 1);
	const m = /^[A-Za-z0-9_$]+/.exec(rest);
	const len = m ? m[0].length : rest.length > 0 ? 1 : 0;
	return { from, to: from + len, severity: 'error', message };
}
