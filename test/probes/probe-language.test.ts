import { parseJsonPath, pick } from '../../src/probes/json-path';
import { fillPath, fillValue, pathParams, variablesIn } from '../../src/probes/templates';
import { ProbeSchemas } from '../../src/probes/json-schemas';

describe('JSON paths', () => {
  const doc = {
    id: 7,
    data: [{ order_id: 3, 'odd-key': 'x', 'a b': true }],
    nested: { deep: [null, [1, 2]] },
  };
  test.each<[string, unknown]>([
    ['$', doc],
    ['$.id', 7],
    ['$.data[0].order_id', 3],
    ['$.data[0].odd-key', 'x'],
    ['$.data[0]["a b"]', true],
    ["$.data[0]['a b']", true],
    ['$.nested.deep[1][1]', 2],
    ['$.data[1].order_id', undefined],
    ['$.id.more', undefined],
    ['$.data.order_id', undefined],
    ['$.nested[0]', undefined],
    ['$.toString', undefined],
  ])('%s picks %p', (path, value) => {
    expect(pick(doc, path)).toEqual(value);
  });

  test.each<[string, string]>([
    ['id', 'must start with $ (like $.id or $.items[0].id)'],
    ['$.', 'expected a field name after "." at "."'],
    ['$.data[*].id', 'unexpected "[*].id" (use .name, [0] or ["name"]; filters and * are not supported)'],
    ['$..id', 'expected a field name after "." at "..id"'],
    [
      '$.data[?(@.id)]',
      'unexpected "[?(@.id)]" (use .name, [0] or ["name"]; filters and * are not supported)',
    ],
    ['$[-1]', 'unexpected "[-1]" (use .name, [0] or ["name"]; filters and * are not supported)'],
  ])('%s is refused: %s', (path, error) => {
    expect(parseJsonPath(path)).toEqual({ error });
  });
});

describe('templates', () => {
  const vars = { id: 42, token: 'ab12', name: 'x/y z' };
  test.each<[unknown, unknown]>([
    ['${id}', 42],
    ['order ${id}', 'order 42'],
    ['${token}-${id}', 'ab12-42'],
    ['${unknown}', '${unknown}'],
    [
      { a: ['${id}', { b: 'n ${token}' }], '${token}': 1 },
      { a: [42, { b: 'n ab12' }], ab12: 1 },
    ],
    [5, 5],
    [null, null],
  ])('%p → %p', (value, filled) => {
    expect(fillValue(value, vars)).toEqual(filled);
  });

  test('path parameters are URL-encoded; unknown ones stay', () => {
    expect(fillPath('/orders/{id}/by/{name}/{other}', vars)).toBe('/orders/42/by/x%2Fy%20z/{other}');
    expect(pathParams('/a/{x}/b/{y_2}')).toEqual(['x', 'y_2']);
    expect(variablesIn({ a: '${x} ${y}', b: ['${z}'], '${k}': 0 })).toEqual(['x', 'y', 'z', 'k']);
  });
});

describe('JSON Schemas', () => {
  const schemas = new ProbeSchemas({
    item: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
    },
    list: { type: 'array', items: { $ref: 'item' } },
  });
  test.each<[string, unknown, string[]]>([
    ['list', [{ id: 1, at: '2026-12-02T10:00:00.000Z' }], []],
    ['list', [{ id: '1' }], ['/0/id: must be integer']],
    ['item', { id: 1, at: 'yesterday' }, ['/at: must match format "date-time"']],
    ['item', '<html>', ['(root): must be object']],
  ])('%s against %p', (name, body, issues) => {
    expect(schemas.mismatches(name, body)).toEqual(issues);
  });
  test('an unknown keyword, a bad type and a dangling $ref do not compile', () => {
    expect(() => new ProbeSchemas({ a: { type: 'object', propertiez: {} } })).toThrow(
      'strict mode: unknown keyword: "propertiez"',
    );
    expect(() => new ProbeSchemas({ a: { type: 'objekt' } })).toThrow(
      /schema is invalid: data\/type must be equal to one of the allowed values/,
    );
    expect(() => new ProbeSchemas({ a: { $ref: 'nope' } })).toThrow("can't resolve reference nope");
    expect(() => schemas.compile('nope')).toThrow(
      'no schema named "nope" in target.probes.schemas (named: item, list)',
    );
  });
});
