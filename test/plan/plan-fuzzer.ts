import { stringify } from 'yaml';

/**
 * A seeded generator of mutated plans for the fuzz test: deterministic (mulberry32), so a failure
 * names a case number that reproduces.
 */
export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

export const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)];

type Node = Record<string, unknown> | unknown[];
interface Slot {
  parent: Node;
  key: string | number;
}

/** Every place in `doc` that holds a value (keys of mappings, items of lists). */
function slots(doc: unknown, out: Slot[] = [], depth = 0): Slot[] {
  if (depth > 12 || typeof doc !== 'object' || doc === null) return out;
  const node = doc as Node;
  for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
    out.push({ parent: node, key });
    slots((node as Record<string | number, unknown>)[key], out, depth + 1);
  }
  return out;
}
const mappings = (doc: unknown): Record<string, unknown>[] => [
  doc as Record<string, unknown>,
  ...slots(doc)
    .map((s) => (s.parent as Record<string | number, unknown>)[s.key])
    .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)),
];

function typo(r: Rng, key: string): string {
  const i = Math.floor(r() * Math.max(1, key.length));
  switch (Math.floor(r() * 6)) {
    case 0:
      return key.slice(0, i) + key.slice(i + 1); // approvl
    case 1:
      return key.slice(0, i) + key[i] + key.slice(i); // approvval
    case 2:
      return i + 1 < key.length ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2) : `${key}x`; // swap
    case 3:
      return key.toUpperCase();
    case 4:
      return `${key}s`;
    default:
      return key.replace(/[A-Z]/, (c) => `_${c.toLowerCase()}`) + (key.includes('_') ? '' : '_');
  }
}

const NUMBERS = [
  Infinity,
  -Infinity,
  NaN,
  1e308,
  -1,
  0,
  -0,
  2.5,
  0.1,
  1e-320,
  101,
  100,
  9007199254740993,
  0.05,
];
const STRINGS = [
  '',
  ' ',
  '1'.repeat(400) + 's',
  '0.001ms',
  '1000000d',
  '1h30m',
  '10m1s',
  '30d',
  '31d',
  'continuous',
  '__proto__',
  'x-'.repeat(3),
  'é\u0000\u202e',
  'GET /',
  'http://127.0.0.1:1/x',
  'javascript:alert(1)',
  'before-start',
  'none',
  'writeProbe',
];
function extremeString(r: Rng): string {
  const n = pick(r, [201, 2049, 5000, 70_000]);
  return pick(r, ['x', 'é', '😀', 'a-']).repeat(n).slice(0, n);
}
function garbage(r: Rng, depth: number): unknown {
  if (depth <= 0) return pick(r, [null, 1, 'x', true, [], {}]);
  return r() < 0.5
    ? [garbage(r, depth - 1)]
    : { [pick(r, ['a', 'x-a', 'name', 'phases'])]: garbage(r, depth - 1) };
}

/** One value mutation of `doc` in place; returns what it did, for the failure message. */
export function mutate(r: Rng, doc: Record<string, unknown>): string {
  const all = slots(doc);
  const s = pick(r, all);
  const p = s.parent as Record<string | number, unknown>;
  const kind = Math.floor(r() * 12);
  switch (kind) {
    case 0:
      if (Array.isArray(p)) p.splice(s.key as number, 1);
      else delete p[s.key];
      return `delete ${s.key}`;
    case 1: {
      if (Array.isArray(p)) return 'none';
      const to = typo(r, String(s.key));
      if (to in p) return 'none';
      p[to] = p[s.key];
      delete p[s.key];
      return `rename ${s.key} → ${to}`;
    }
    case 2:
      p[s.key] = pick(r, [null, true, [], {}, 'text', 42, [1, 2], { a: 1 }]);
      return `retype ${s.key}`;
    case 3:
      p[s.key] = pick(r, NUMBERS);
      return `number ${s.key}`;
    case 4:
      p[s.key] = pick(r, STRINGS);
      return `string ${s.key}`;
    case 5:
      p[s.key] = extremeString(r);
      return `long string ${s.key}`;
    case 6: {
      const m = pick(r, mappings(doc));
      const key = pick(r, [
        'x-note',
        'x-anchor',
        'approvl',
        'aprovers',
        'check',
        'extra',
        '__proto__',
        'Name',
      ]);
      Object.defineProperty(m, key, {
        value: pick(r, ['v', 1, { a: 1 }]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return `add key ${key}`;
    }
    case 7:
      p[s.key] = garbage(r, Math.floor(r() * 40));
      return `garbage ${s.key}`;
    case 8: {
      const phase = Array.isArray(doc.phases) ? obj(doc.phases[0]) : undefined;
      const step = Array.isArray(phase?.steps) ? obj(phase.steps[0]) : undefined;
      if (step) step.percent = pick(r, [2.5, 0.5, 99.9, 1 / 3]);
      return 'fractional percent';
    }
    case 9: {
      const t = obj(obj(doc.defaults)?.thresholds);
      const band = pick(r, ['errorRate', 'successRate']);
      if (t) t[band] = { target: r(), rollback: r() };
      return `band ${band}`;
    }
    case 10:
      doc[pick(r, ['approvers', 'approvers', 'aprovers'])] = pick(r, [
        [],
        ['a', 'a'],
        [' '],
        ['alice'],
        ['alice', 'bob'],
      ]);
      return 'approvers';
    default: {
      const [a, b] = Array.isArray(doc.phases) ? doc.phases.map(obj) : [];
      if (a && b) b[pick(r, ['name', 'group'])] = a[pick(r, ['name', 'group'])];
      return 'duplicate phase';
    }
  }
}

/**
 * A YAML rendering of a (possibly mutated) plan whose second phase takes `approval` and `checks`
 * from a merge key (`<<: *write-defaults`), with an occasional typo inside the anchor.
 */
export function withMergeKey(r: Rng, doc: Record<string, unknown>): string {
  const target = Array.isArray(doc.phases) ? obj(doc.phases[1]) : undefined;
  if (!target) return stringify(doc);
  const shared: Record<string, unknown> = {};
  for (const key of ['approval', 'checks'])
    if (key in target) {
      shared[r() < 0.15 ? typo(r, key) : key] = target[key];
      delete target[key];
    }
  const text = stringify({ 'x-write-defaults': shared, ...doc });
  const anchored = text.replace(/^x-write-defaults:/m, 'x-write-defaults: &write-defaults');
  // The second "- name:" item of phases gets the merge key as its first entry.
  let seen = 0;
  return anchored.replace(/^( {2}- )name:/gm, (m, lead: string) =>
    ++seen === 2 ? `${lead}<<: *write-defaults\n    name:` : m,
  );
}

/** Repeats one `key: value` line of a YAML text, or one `"key": value` of JSON: a duplicate key. */
export function duplicateKeyLine(r: Rng, text: string): string | undefined {
  const lines = text.split('\n');
  const candidates = lines
    .map((l, i) => [l, i] as const)
    .filter(([l]) => /^\s*("?[A-Za-z][\w-]*"?):\s*\S/.test(l) && !/^\s*-/.test(l));
  if (candidates.length === 0) return undefined;
  const [line, i] = pick(r, candidates);
  const json = text.trimStart().startsWith('{');
  lines.splice(i, 1, json && !line.trimEnd().endsWith(',') ? `${line},` : line, line);
  return lines.join('\n');
}

/** Flips, drops or inserts a few characters: syntax errors anywhere. */
export function corrupt(r: Rng, text: string): string {
  let t = text;
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const i = Math.floor(r() * t.length);
    const c = pick(r, [
      '"',
      "'",
      '{',
      '[',
      ':',
      '\\',
      '\t',
      '&',
      '*',
      '!',
      '%',
      '\n',
      '  ',
      '#',
      '\u0000',
      '<<',
    ]);
    t = r() < 0.5 ? t.slice(0, i) + c + t.slice(i + 1) : t.slice(0, i) + c + t.slice(i);
  }
  return t;
}
