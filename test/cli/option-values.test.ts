/**
 * The option schemas of options.ts, value by value (in-process, fast; bad-options.test.ts runs the
 * real CLI for the cases an operator hit). Every refusal is a CliError with exit code 2 whose
 * message starts with the option's name.
 */
import { CliError, EXIT } from '../../src/client/errors';
import {
  durationOption,
  groupOption,
  parseArgument,
  parseOptions,
  stateOption,
  targetIdOption,
  urlOption,
  workflowIdOption,
  OPTION_LIMITS,
  type Verb,
} from '../../src/client/options';
import type { z } from 'zod';

function refusal(f: () => unknown): CliError {
  try {
    f();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('accepted');
}

/** The options commander hands over when only the defaults are there. */
const DEFAULTS: Record<Verb, Record<string, unknown>> = {
  start: {},
  status: {},
  history: {},
  watch: { interval: '1' },
  approve: { by: 'alice' },
  pause: { by: 'alice' },
  resume: { by: 'alice' },
  rollback: { by: 'alice' },
  complete: { by: 'alice' },
  list: { limit: '50' },
  verify: { window: '15s', metrics: true },
  setup: {},
  init: { out: 'rollout-plan.yaml', endpoint: [], group: [], param: [], verify: true },
  ui: { port: '8400', host: '127.0.0.1' },
};

test.each(Object.keys(DEFAULTS) as Verb[])('%s: the defaults commander gives are accepted', (verb) => {
  expect(() => parseOptions(verb, DEFAULTS[verb])).not.toThrow();
});

const NUMERIC: Array<[Verb, string, string]> = [
  ['start', 'timeScale', '--time-scale'],
  ['watch', 'interval', '--interval'],
  ['list', 'limit', '--limit'],
];
const NOT_NUMBERS = ['NaN', '-1', '0', '-0', 'Infinity', '-Infinity', '1e-320', '1e400', 'abc', '', '  '];
const NOT_DECIMAL = ['0x10', '0b1', '0o7', '1_000', '1,5', '5 s'];

describe.each(NUMERIC)('%s %s', (verb, key, flag) => {
  test.each([...NOT_NUMBERS, ...NOT_DECIMAL])(`${flag} %p: exit 2 naming ${flag}`, (value) => {
    const e = refusal(() => parseOptions(verb, { ...DEFAULTS[verb], [key]: value }));
    expect(e.code).toBe(EXIT.invalid);
    expect(e.message).toMatch(new RegExp(`^${flag}: must be a (whole )?number .*from .* to .* \\(got `));
  });
});

test.each<[Verb, string, string, number]>([
  ['start', 'timeScale', '60', 60],
  ['start', 'timeScale', '0.001', 0.001],
  ['start', 'timeScale', '1e5', 100_000],
  ['watch', 'interval', '0.5', 0.5],
  ['watch', 'interval', ' 3600 ', 3600],
  ['list', 'limit', '1e3', 1000],
  ['list', 'limit', '10000', 10_000],
])('%s: %s %p is %p', (verb, key, value, parsed) => {
  expect(parseOptions(verb, { ...DEFAULTS[verb], [key]: value })).toMatchObject({ [key]: parsed });
});

test.each(['1.5', '10001'])('list --limit %p: a whole number up to 10000', (value) => {
  expect(refusal(() => parseOptions('list', { limit: value })).message).toMatch(
    /^--limit: must be a whole number from 1 to 10000/,
  );
});

const by = (n: number) => 'b'.repeat(n);
test.each<[Verb, string, string, RegExp]>([
  ['approve', 'by', '', /^--by: must not be empty/],
  ['pause', 'by', ' \t ', /^--by: must not be empty/],
  ['resume', 'by', by(OPTION_LIMITS.byLength + 1), /^--by: must be at most 200 characters \(got 201\)/],
  ['complete', 'by', 'al\u0000ice', /^--by: must not contain control characters/],
  ['rollback', 'by', 'al\nice', /^--by: must not contain control characters/],
  ['approve', 'comment', '', /^--comment: must not be empty .*leave the option out/],
  ['approve', 'comment', by(1001), /^--comment: must be at most 1000 characters \(got 1001\)/],
  ['pause', 'reason', by(1001), /^--reason: must be at most 1000 characters/],
  ['rollback', 'reason', 'x\u0007', /^--reason: must not contain control characters/],
  ['verify', 'phase', ' ', /^--phase: must not be empty/],
])('%s --%s %p is refused', (verb, key, value, message) => {
  const e = refusal(() => parseOptions(verb, { ...DEFAULTS[verb], [key]: value }));
  expect(e.code).toBe(EXIT.invalid);
  expect(e.message).toMatch(message);
});

test('--by is trimmed (the workflow matches approvers trimmed); notes keep their line breaks', () => {
  expect(parseOptions('approve', { by: '  张三 ', comment: 'line 1\nline 2' })).toEqual({
    by: '张三',
    comment: 'line 1\nline 2',
  });
  expect(parseOptions('resume', { by: by(OPTION_LIMITS.byLength) }).by).toHaveLength(200);
});

/** Why a value is refused, or "accepted". */
function verdict(schema: z.ZodType<unknown, string>, value: string): string {
  const r = schema.safeParse(value);
  return r.success ? 'accepted' : r.error.issues[0].message;
}

test.each<[string, z.ZodType<unknown, string>, string[], string[]]>([
  [
    'workflow ids',
    workflowIdOption,
    ['rollout-camera-api', 'a'.repeat(1000), '张'.repeat(333)],
    ['', ' ', ' x', 'x ', 'a\nb', 'a'.repeat(1001), '张'.repeat(334)],
  ],
  ['target ids', targetIdOption, ['camera-api', 'a.b_c-1'], ['', "x'", 'a b', '-x', '.x', 'a'.repeat(201)]],
  ['group names', groupOption, ['read', 'write-2'], ['', 'Read', 'read group', '1read', 'a'.repeat(201)]],
  [
    'URLs',
    urlOption,
    ['http://127.0.0.1:8000', 'https://camera-api.staging.internal/'],
    ['', 'not a url', 'ftp://x', 'file:///etc/passwd', '127.0.0.1:8000'],
  ],
  ['states', stateOption, ['paused', 'rolled-back'], ['', 'sideways', 'PAUSED']],
  [
    'durations of verify --window',
    durationOption(OPTION_LIMITS.verifyWindowMs),
    ['1s', '15s', '1m30s', '1h'],
    ['', '0ms', '999ms', '1h1s', '100000d', 'abc', '1e3s', '-5s'],
  ],
])('%s: the good accepted, every bad one refused', (_name, schema, good, bad) => {
  for (const value of good) expect([value, verdict(schema, value)]).toEqual([value, 'accepted']);
  for (const value of bad)
    expect([value, verdict(schema, value)]).toEqual([value, expect.stringMatching(/^(must|unknown state) /)]);
});

test('unknown options and several problems: each named, one per line', () => {
  expect(refusal(() => parseOptions('approve', { by: 'alice', extra: 1 })).message).toBe(
    '--extra: not an option of this command',
  );
  const e = refusal(() => parseOptions('start', { timeScale: '0', id: '', targetUrl: 'x' }));
  expect(e.message).toBe('3 invalid options:');
  expect(e.details).toEqual([
    expect.stringMatching(/^ {2}--target-url: must be an http\(s\) URL/),
    expect.stringMatching(/^ {2}--time-scale: must be a number from 0\.001 to 100000/),
    expect.stringMatching(/^ {2}--id: must not be empty/),
  ]);
});

test('a positional argument is named as usage shows it', () => {
  const e = refusal(() => parseArgument('<id>', workflowIdOption, ''));
  expect([e.code, e.message]).toEqual([EXIT.invalid, '<id>: must not be empty (got "")']);
  expect(parseArgument('<id>', workflowIdOption, 'camera-api')).toBe('camera-api');
});
