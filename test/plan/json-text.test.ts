import { lineColumn, parseJsonText, TextSyntaxError } from '../../src/plan/json-text';

/** The strict JSON reader agrees with JSON.parse on JSON, and says where JSON is not. */
test.each([
  '{}',
  '[]',
  ' {"a": 1, "b": [true, false, null], "c": {"d": "e"}} ',
  '"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00"',
  '[-0, 0, 1.5, -2e10, 3E-2, 1e400, 12345678901234567890]',
  '{"__proto__": {"polluted": true}, "constructor": 1}',
  '\r\n\t[1,\r\n2]\n',
])('agrees with JSON.parse on %s', (text) => {
  const ours = parseJsonText(text, 32);
  expect(ours).toEqual(JSON.parse(text));
  expect(Object.getPrototypeOf({})).not.toHaveProperty('polluted');
});

test('a "__proto__" key stays a key and sets no prototype', () => {
  const v = parseJsonText('{"__proto__": {"x": 1}}', 32) as Record<string, unknown>;
  expect(Object.keys(v)).toEqual(['__proto__']);
  expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
});

test.each([
  ['', 1, 1, 'unexpected end of the file: expected a value'],
  ['{"a": 1,}', 1, 9, 'expected a key in double quotes, found "}"'],
  ['{"a" 1}', 1, 6, 'expected ":" after the key, found "1"'],
  ['[1 2]', 1, 4, 'expected "," or "]", found "2"'],
  ['{"a": 1}\n{"b": 2}', 2, 1, 'unexpected "{" after the end of the JSON value'],
  ['{"a": "x\ny"}', 1, 9, 'a line break inside a string (write it as an escape like \\n)'],
  ['{"a": "\\x41"}', 1, 8, 'invalid escape \\x (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)'],
  ['{"a": "\\u12"}', 1, 8, 'invalid escape: \\u must be followed by 4 hex digits'],
  ['{"a": "open', 1, 7, 'unterminated string'],
  ['[01]', 1, 3, 'expected "," or "]", found "1"'],
  ['[+1]', 1, 2, 'expected a value, found "+"'],
  ['[.5]', 1, 2, 'expected a value, found "."'],
  ['[NaN]', 1, 2, 'expected a value, found "N"'],
  ['[Infinity]', 1, 2, 'expected a value, found "I"'],
  ["{'a': 1}", 1, 2, `expected a key in double quotes, found "'"`],
  ['{\n  "a": 1,\n  "a": 2\n}', 3, 3, 'duplicate key "a" (first at line 2): keys must be unique'],
  ['[[[1]]]', 1, 3, 'nested deeper than 2 levels'],
])('refuses %j at %i:%i', (text, line, column, message) => {
  let err: unknown;
  try {
    parseJsonText(text, text.startsWith('[[[') ? 2 : 32);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TextSyntaxError);
  expect(err).toMatchObject({ line, column, message });
});

test('lineColumn counts lines from 1 and columns from 1', () => {
  expect(lineColumn('ab\ncd\n', 0)).toEqual({ line: 1, column: 1 });
  expect(lineColumn('ab\ncd\n', 4)).toEqual({ line: 2, column: 2 });
  expect(lineColumn('ab\ncd\n', 6)).toEqual({ line: 3, column: 1 });
});

test('parses 200 KB in linear time', () => {
  const text = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => `item-${i}`) });
  const started = Date.now();
  expect((parseJsonText(text, 32) as { items: string[] }).items).toHaveLength(20_000);
  expect(Date.now() - started).toBeLessThan(1_000);
});
