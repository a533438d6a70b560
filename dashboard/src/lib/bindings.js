// Bindings of a script as editable rows, and back. The API's shape is
// {"NAME": {"type": "text", "value": "…"} | {"type": "json", "value": any}
//  | {"type": "kv", "namespace": "…"} | {"type": "secret", "name": "…"}}.

export const BINDING_TYPES = [
	{ value: 'text', label: 'Text', field: 'Value' },
	{ value: 'json', label: 'JSON', field: 'JSON value' },
	{ value: 'kv', label: 'KV namespace', field: 'Namespace' },
	{ value: 'secret', label: 'Secret', field: 'Secret name' }
];

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/**
 * @typedef {{name: string, type: string, value: string}} BindingRow
 *   value is the text, the JSON source, the namespace or the secret name.
 */

/**
 * @param {any} bindings as GET /scripts/{id} answers (object, or null)
 * @returns {BindingRow[]}
 */
export function rowsFromBindings(bindings) {
	if (!bindings || typeof bindings !== 'object' || Array.isArray(bindings)) return [];
	return Object.keys(bindings)
		.sort()
		.map((name) => {
			const b = bindings[name] ?? {};
			switch (b.type) {
				case 'text':
					return { name, type: 'text', value: typeof b.value === 'string' ? b.value : String(b.value ?? '') };
				case 'json':
					return { name, type: 'json', value: JSON.stringify(b.value, null, 2) ?? 'null' };
				case 'kv':
					return { name, type: 'kv', value: b.namespace ?? '' };
				case 'secret':
					return { name, type: 'secret', value: b.name ?? '' };
				default:
					return { name, type: String(b.type ?? ''), value: JSON.stringify(b) };
			}
		});
}

/**
 * Builds the bindings object from rows, or says what is wrong with each
 * row (errors[i] is the message for rows[i], '' when fine).
 * @param {BindingRow[]} rows
 * @returns {{bindings: Record<string, any> | null, errors: string[]}}
 */
export function bindingsFromRows(rows) {
	/** @type {Record<string, any>} */
	const out = {};
	const seen = new Set();
	let bad = false;
	const errors = rows.map((r) => {
		const name = r.name.trim();
		let err = '';
		if (!name) err = 'A binding needs a name';
		else if (!NAME.test(name)) err = `“${name}” is not a valid name: letters, digits, _ and $, not starting with a digit`;
		else if (seen.has(name)) err = `${name} is defined twice`;
		seen.add(name);
		if (!err) {
			switch (r.type) {
				case 'text':
					out[name] = { type: 'text', value: r.value };
					break;
				case 'json':
					try {
						out[name] = { type: 'json', value: JSON.parse(r.value) };
					} catch (e) {
						err = `${name}: not valid JSON (${e instanceof Error ? e.message : e})`;
					}
					break;
				case 'kv':
					if (!r.value.trim()) err = `${name}: a KV binding needs a namespace`;
					else out[name] = { type: 'kv', namespace: r.value.trim() };
					break;
				case 'secret':
					if (!r.value.trim()) err = `${name}: a secret binding needs the secret's name`;
					else out[name] = { type: 'secret', name: r.value.trim() };
					break;
				default:
					err = `${name}: unknown type “${r.type}”`;
			}
		}
		if (err) bad = true;
		return err;
	});
	return { bindings: bad ? null : out, errors };
}

/**
 * Whether two bindings objects say the same thing (key order aside).
 * @param {any} x
 * @param {any} y
 */
export function sameBindings(x, y) {
	return canonical(x ?? {}) === canonical(y ?? {});
}

/** @param {any} v @returns {string} */
function canonical(v) {
	if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
	if (v && typeof v === 'object') {
		return `{${Object.keys(v)
			.sort()
			.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
			.join(',')}}`;
	}
	return JSON.stringify(v);
}
