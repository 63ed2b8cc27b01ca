import { compareStructure, jsonType } from '../../src/activities/structure';

describe('compareStructure: same keys and JSON types, values free', () => {
  test.each<[string, unknown, unknown, string[]]>([
    ['equal shapes, other values', { a: 1, b: 'x', c: [1, 2] }, { a: 2, b: 'y', c: [3] }, []],
    ['a type differs', { uptime: 1 }, { uptime: '1' }, ['$.uptime: legacy number, domain string']],
    ['a key only in legacy', { a: 1, version: '1' }, { a: 1 }, ['$.version: only in legacy']],
    ['a key only in domain', { a: 1 }, { a: 1, extra: true }, ['$.extra: only in domain']],
    [
      'null against a string',
      { location: null },
      { location: 'x' },
      ['$.location: legacy null, domain string'],
    ],
    [
      'nested in arrays by position',
      { items: [{ n: 1 }] },
      { items: [{ n: 'a' }] },
      ['$.items[0].n: legacy number, domain string'],
    ],
    [
      'arrays of records are paired by id, whatever the order',
      {
        items: [
          { id: 'a', tags: [] },
          { id: 'b', tags: [] },
        ],
      },
      {
        items: [
          { id: 'b', tags: 'x' },
          { id: 'a', tags: [] },
        ],
      },
      ['$.items[id=b].tags: legacy array, domain string'],
    ],
    [
      'records without a common id: one row of each compared',
      { items: [{ id: 'a', n: 1 }] },
      { items: [{ id: 'b', n: 1, m: 2 }] },
      ['$.items[0].m: only in domain'],
    ],
    ['different lengths are values, not structure', [1, 2, 3], [4], []],
    ['an empty array matches any array', { items: [] }, { items: [{ id: 'x' }] }, []],
    ['top-level type', [], {}, ['$: legacy array, domain object']],
    ['odd keys are quoted', { 'a-b': 1 }, {}, ['$["a-b"]: only in legacy']],
  ])('%s', (_name, legacy, domain, expected) => {
    expect(compareStructure(legacy, domain)).toEqual(expected);
  });

  test('stops after max differences', () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    expect(compareStructure(many, {}, '$', [], 5)).toHaveLength(5);
  });

  test.each<[unknown, string]>([
    [null, 'null'],
    [undefined, 'null'],
    [[], 'array'],
    [{}, 'object'],
    [1.5, 'number'],
    ['', 'string'],
    [false, 'boolean'],
  ])('jsonType(%p) = %s', (v, t) => {
    expect(jsonType(v)).toBe(t);
  });
});
