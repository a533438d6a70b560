import { describe, it, expect } from 'vitest';
import { rowsFromBindings, bindingsFromRows, sameBindings } from './bindings.js';

const api = {
	GREETING: { type: 'text', value: 'hi' },
	CONFIG: { type: 'json', value: { a: [1, 2], b: null } },
	STORE: { type: 'kv', namespace: 'store' },
	TOKEN: { type: 'secret', name: 'API_TOKEN' }
};

describe('rowsFromBindings', () => {
	it('turns every type into a row, sorted by name', () => {
		expect(rowsFromBindings(api)).toEqual([
			{ name: 'CONFIG', type: 'json', value: '{\n  "a": [\n    1,\n    2\n  ],\n  "b": null\n}' },
			{ name: 'GREETING', type: 'text', value: 'hi' },
			{ name: 'STORE', type: 'kv', value: 'store' },
			{ name: 'TOKEN', type: 'secret', value: 'API_TOKEN' }
		]);
	});
	it('accepts nothing', () => {
		expect(rowsFromBindings(null)).toEqual([]);
		expect(rowsFromBindings({})).toEqual([]);
		expect(rowsFromBindings([])).toEqual([]);
	});
});

describe('bindingsFromRows', () => {
	it('round-trips', () => {
		const { bindings, errors } = bindingsFromRows(rowsFromBindings(api));
		expect(errors.every((e) => e === '')).toBe(true);
		expect(sameBindings(bindings, api)).toBe(true);
	});
	const cases = [
		{ name: 'empty name', row: { name: ' ', type: 'text', value: 'x' }, err: /needs a name/ },
		{ name: 'bad name', row: { name: '1abc', type: 'text', value: 'x' }, err: /not a valid name/ },
		{ name: 'bad json', row: { name: 'C', type: 'json', value: '{a:1}' }, err: /C: not valid JSON/ },
		{ name: 'kv without namespace', row: { name: 'K', type: 'kv', value: '' }, err: /needs a namespace/ },
		{ name: 'secret without name', row: { name: 'S', type: 'secret', value: '  ' }, err: /secret's name/ },
		{ name: 'unknown type', row: { name: 'U', type: 'queue', value: 'q' }, err: /unknown type/ }
	];
	for (const c of cases) {
		it(`refuses ${c.name}`, () => {
			const { bindings, errors } = bindingsFromRows([{ name: 'OK', type: 'text', value: '' }, c.row]);
			expect(bindings).toBeNull();
			expect(errors[0]).toBe('');
			expect(errors[1]).toMatch(c.err);
		});
	}
	it('refuses duplicates', () => {
		const { bindings, errors } = bindingsFromRows([
			{ name: 'A', type: 'text', value: '1' },
			{ name: 'A', type: 'text', value: '2' }
		]);
		expect(bindings).toBeNull();
		expect(errors[1]).toMatch(/twice/);
	});
	it('keeps text verbatim and trims names', () => {
		const { bindings } = bindingsFromRows([{ name: ' A ', type: 'text', value: '  spaced  ' }]);
		expect(bindings).toEqual({ A: { type: 'text', value: '  spaced  ' } });
	});
	it('no rows is an empty object (clears on deploy)', () => {
		expect(bindingsFromRows([])).toEqual({ bindings: {}, errors: [] });
	});
});

describe('sameBindings', () => {
	it('ignores key order and treats null as empty', () => {
		expect(sameBindings({ a: { type: 'kv', namespace: 'x' } }, { a: { namespace: 'x', type: 'kv' } })).toBe(true);
		expect(sameBindings(null, {})).toBe(true);
		expect(sameBindings({ a: { type: 'text', value: '1' } }, { a: { type: 'text', value: '2' } })).toBe(false);
	});
});
