import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadPlanForCli } from '../../src/cli/plan-file';
import { CliError } from '../../src/client/errors';
import { describeIoError, loadPlan, PlanFileError, readPlanFile } from '../../src/plan/load';
import { LIMITS } from '../../src/plan/limits';
import { seedPlan } from '../helpers/workflow-harness';

/** Messages a person reads: the file, the line and column, no library noise (issue 8, item 3). */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'plan-load-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function refusal(file: string): Promise<PlanFileError> {
  try {
    await readPlanFile(file);
  } catch (err) {
    if (err instanceof PlanFileError) return err;
    throw err;
  }
  throw new Error(`${file} was read`);
}

test.each([
  [
    'YAML: an unclosed flow list',
    'bad.yaml',
    'name: x\nphases: [1, 2\nother: 3\n',
    /^bad\.yaml:\d+:\d+: not valid YAML: /,
  ],
  [
    'YAML: a tab for indentation',
    'tab.yaml',
    'name: x\ntarget:\n\tid: a\n',
    /^tab\.yaml:3:1: not valid YAML: /,
  ],
  [
    'JSON: a trailing comma',
    'comma.json',
    '{\n  "a": [1, 2,]\n}\n',
    /^comma\.json:2:14: not valid JSON: expected a value, found "]"$/,
  ],
  [
    'JSON: a missing comma',
    'missing.json',
    '{\n  "a": 1\n  "b": 2\n}',
    /^missing\.json:3:3: not valid JSON: expected "," or "}", found '"'$/,
  ],
  [
    'JSON: a comment',
    'comment.json',
    '{\n  // no\n}',
    /^comment\.json:2:3: not valid JSON: expected a key in double quotes, found "\/"$/,
  ],
  [
    'JSON: cut short',
    'short.json',
    '{"a": [1, 2',
    /^short\.json:1:12: not valid JSON: expected "," or "\]", found the end of the file$/,
  ],
])('a syntax error names file, line and column (%s)', async (_name, name, text, headline) => {
  const file = write(name, text);
  const err = await refusal(file);
  expect(err.headline.replace(`${dir}/`, '')).toMatch(headline);
  expect(err.line).toBeGreaterThan(0);
  expect(err.column).toBeGreaterThan(0);
  // The offending line is shown with a caret under the column.
  expect(err.details[1].indexOf('^') - err.details[0].indexOf('| ') - 2).toBe(err.column! - 1);
});

test('an unknown tag (!!js/function) is a plan error with line and column, and nothing reaches stderr', async () => {
  const file = write('tag.yaml', 'name: x\ntarget: !!js/function "function () { return 1 }"\n');
  const writes: string[] = [];
  const spies = [
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    }),
    jest.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => void writes.push(String(w))),
    jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void writes.push(a.join(' '))),
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void writes.push(a.join(' '))),
  ];
  try {
    const err = await refusal(file);
    expect(err.headline).toBe(
      `${file}:2:9: not valid YAML: unknown tag !!js/function: plans use plain YAML values only`,
    );
    const custom = await refusal(write('custom-tag.yaml', 'name: !secret x\n'));
    expect(custom.headline).toMatch(/:1:7: not valid YAML: unknown tag !secret/);
  } finally {
    for (const s of spies) s.mockRestore();
  }
  expect(writes).toEqual([]);
});

test('a 10 MB plan is refused by its size before it is read or parsed', async () => {
  const file = write('huge.yaml', `name: ${'x'.repeat(10 * 1024 * 1024)}\n`);
  const heapBefore = process.memoryUsage().heapUsed;
  const err = await refusal(file);
  expect(err.headline).toBe(`${file}: is 10241 KB; a plan file may be at most 256 KB`);
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(5 * 1024 * 1024);
});

test('a plan of exactly the limit is read; one byte more is not', async () => {
  const body = `${stringify(seedPlan())}# `;
  const exact = write('exact.yaml', body + 'p'.repeat(LIMITS.planBytes - Buffer.byteLength(body)));
  expect((await loadPlan(exact)).ok).toBe(true);
  const over = write('over.yaml', readFileSync(exact, 'utf8') + 'p');
  expect((await refusal(over)).headline).toMatch(/a plan file may be at most 256 KB$/);
});

test.each([
  [
    'YAML',
    'escapes.yaml',
    `name: "${'\\q'.repeat(100_000)}"\n`,
    /escapes\.yaml:1:8: not valid YAML: invalid escape sequence \\q/,
  ],
  [
    'JSON',
    'escapes.json',
    `{"name": "${'\\q'.repeat(100_000)}"}`,
    /escapes\.json:1:11: not valid JSON: invalid escape \\q/,
  ],
])(
  '200 KB of invalid escapes (%s) is rejected at once, at the first one',
  async (_name, file, text, headline) => {
    const started = Date.now();
    const err = await refusal(write(file, text));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.headline).toMatch(headline);
  },
);

test('deeply nested flow collections are refused before the parser runs out of stack', async () => {
  const err = await refusal(write('deep.yaml', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`));
  expect(err.headline).toMatch(/deep\.yaml:1:\d+: not valid YAML: nested deeper than 256 levels/);
  const json = await refusal(write('deep.json', `${'['.repeat(1000)}${']'.repeat(1000)}`));
  expect(json.headline).toMatch(/deep\.json:1:33: not valid JSON: nested deeper than 32 levels/);
});

test('an alias pointing into its own anchor is refused, not expanded forever', async () => {
  const err = await refusal(write('self.yaml', 'name: &a [*a]\n'));
  expect(err.headline).toMatch(/self\.yaml: nested deeper than 32 levels/);
});

test('an alias bomb is refused', async () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [n, prev] of ['b', 'c', 'd', 'e', 'f'].map((n, i) => [n, 'abcde'[i]]))
    lines.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]`);
  const err = await refusal(write('bomb.yaml', `${lines.join('\n')}\n`));
  expect(err.headline).toMatch(/too many alias expansions/);
});

test.each([
  [
    'more than one document',
    'two.yaml',
    'name: a\n---\nname: b\n',
    /two\.yaml:2:1: not valid YAML: more than one YAML document/,
  ],
  [
    'nothing but comments',
    'empty.yaml',
    '# nothing\n',
    /empty\.yaml:1:1: not valid YAML: the file holds no plan/,
  ],
  [
    'not UTF-8',
    'latin1.yaml',
    Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a]),
    /latin1\.yaml: is not UTF-8 text$/,
  ],
])('refuses a file with %s', async (_name, name, content, headline) => {
  expect((await refusal(write(name, content))).headline).toMatch(headline);
});

test('I/O errors name the file: a directory, a missing file, a path through a file', async () => {
  mkdirSync(path.join(dir, 'plans'), { recursive: true });
  expect((await refusal(path.join(dir, 'plans/'))).headline).toBe(
    `${dir}/plans/: is a directory, not a plan file`,
  );
  expect((await refusal(path.join(dir, 'nope.yaml'))).headline).toBe(`${dir}/nope.yaml: no such file`);
  const file = write('plain.yaml', 'name: x\n');
  expect((await refusal(`${file}/inner.yaml`)).headline).toBe(
    `${file}/inner.yaml: a part of the path is not a directory`,
  );
});

test.each([
  ['EACCES', 'p.yaml: permission denied: cannot read it'],
  ['EPERM', 'p.yaml: permission denied: cannot read it'],
  ['EISDIR', 'p.yaml: is a directory, not a plan file'],
  ['EMFILE', 'p.yaml: cannot read it (too many open files)'],
])('an I/O error %s is described with the file name', (code, expected) => {
  const err = Object.assign(new Error('too many open files'), { code });
  expect(describeIoError('p.yaml', err).headline).toBe(expected);
});

test('the CLI turns each of these into one headline with the file and exit code 2', async () => {
  const cases = [path.join(dir, 'plans/'), write('x.json', '{"a":1,"a":2}'), path.join(dir, 'missing.yaml')];
  for (const file of cases) {
    const err = await loadPlanForCli(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe(2);
    expect((err as CliError).message).toContain(file);
    expect((err as CliError).message).not.toContain('\n');
  }
});

test('the CLI sends the workflow the plan as written, comment keys removed', async () => {
  const plan = { 'x-owner': 'camera team', ...seedPlan() };
  const loaded = await loadPlanForCli(write('commented.yaml', stringify(plan)));
  expect(loaded.raw).toEqual(seedPlan());
});
