import { describe, it, expect } from 'vitest';
import { parseHeaders, allowsBody, executeURL, formatBody } from './request.js';

describe('parseHeaders', () => {
	it.each([
		['empty', '', []],
		['one', 'Content-Type: application/json', [['Content-Type', 'application/json']]],
		['crlf, blanks and comments', 'A: 1\r\n\r\n# note\nB:  two words ', [['A', '1'], ['B', 'two words']]],
		['colon in value', 'X-Url: http://a/b', [['X-Url', 'http://a/b']]],
		['empty value', 'X-Empty:', [['X-Empty', '']]]
	])('%s', (_n, text, want) => {
		expect(parseHeaders(text)).toEqual(want);
	});
	it.each([
		['no colon', 'Just text', /line 1.*Name: value/],
		['leading colon', ': v', /line 1/],
		['bad name', 'Bad Name: v', /not a valid header name/],
		['error names the line', 'A: 1\nnope', /line 2/]
	])('rejects %s', (_n, text, msg) => {
		expect(() => parseHeaders(text)).toThrow(msg);
	});
});

describe('executeURL', () => {
	it.each([
		['plain', 'abc', '', '/api/v1/execute/abc'],
		['query with ?', 'abc', '?a=1', '/api/v1/execute/abc?a=1'],
		['query without ?', 'abc', 'a=1&b=2', '/api/v1/execute/abc?a=1&b=2'],
		['escapes id', 'a/b', '', '/api/v1/execute/a%2Fb']
	])('%s', (_n, id, q, want) => {
		expect(executeURL(id, q)).toBe(want);
	});
});

describe('allowsBody and formatBody', () => {
	it('knows which methods carry a body', () => {
		expect(allowsBody('GET')).toBe(false);
		expect(allowsBody('head')).toBe(false);
		expect(allowsBody('POST')).toBe(true);
	});
	it('pretty-prints JSON only when it is JSON', () => {
		expect(formatBody('{"a":1}', 'application/json; charset=utf-8')).toBe('{\n  "a": 1\n}');
		expect(formatBody('{"a":1}', 'text/plain')).toBe('{"a":1}');
		expect(formatBody('not json', 'application/json')).toBe('not json');
		expect(formatBody('x', null)).toBe('x');
	});
});
