import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseJsonText, TextSyntaxError } from './json-text';
import { LIMITS } from './limits';
import { rolloutInputSchema } from './schema';
import { isCommentKey } from './strict-keys';
import { closest } from './suggest';
import { validatePlan, type PlanProblem, type PlanValidation } from './validate';
import { parseYamlText, type YamlSyntaxError } from './yaml-text';

/**
 * A plan file that cannot be read or parsed. `message` is the headline and the detail lines
 * joined; the file is always named in the headline.
 */
export class PlanFileError extends Error {
  constructor(
    readonly file: string,
    readonly headline: string,
    readonly details: string[] = [],
    readonly line?: number,
    readonly column?: number,
  ) {
    super([headline, ...details].join('\n'));
    this.name = 'PlanFileError';
  }
}

/** An I/O error as one line that names the file. */
export function describeIoError(file: string, err: unknown): PlanFileError {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'is a directory, not a plan file',
    EACCES: 'permission denied: cannot read it',
    EPERM: 'permission denied: cannot read it',
    ENOTDIR: 'a part of the path is not a directory',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'the file name is too long',
  };
  return new PlanFileError(
    file,
    `${file}: ${(code && why[code]) ?? `cannot read it (${(err as Error).message})`}`,
  );
}

const kb = (bytes: number): string => `${Math.ceil(bytes / 1024)} KB`;

/**
 * The file's text, refused before parsing when it is too large (a 10 MB plan must not exhaust the
 * heap), not a regular file, or not UTF-8.
 */
export async function readPlanText(file: string): Promise<string> {
  const tooBig = (size: string) =>
    new PlanFileError(file, `${file}: is ${size}; a plan file may be at most ${kb(LIMITS.planBytes)}`);
  let handle;
  try {
    const st = await stat(file);
    if (st.isDirectory())
      throw describeIoError(file, Object.assign(new Error('directory'), { code: 'EISDIR' }));
    if (!st.isFile()) throw new PlanFileError(file, `${file}: is not a regular file`);
    if (st.size > LIMITS.planBytes) throw tooBig(kb(st.size));
    handle = await open(file, 'r');
    // One byte more than allowed tells a file that grew since stat from one that fits.
    const buf = Buffer.alloc(LIMITS.planBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0 || (length += bytesRead) >= buf.length) break;
    }
    if (length > LIMITS.planBytes) throw tooBig(`over ${kb(LIMITS.planBytes)}`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, length));
    } catch {
      throw new PlanFileError(file, `${file}: is not UTF-8 text`);
    }
  } catch (err) {
    throw err instanceof PlanFileError ? err : describeIoError(file, err);
  } finally {
    await handle?.close();
  }
}

/** The line of `offset` with a caret under it, cut to a readable width. */
function excerpt(text: string, line: number, column: number): string[] {
  const lines = text.split('\n', line);
  const source = (lines[line - 1] ?? '').replace(/\r$/, '');
  const from = Math.max(0, column - 60);
  const shown = source.slice(from, from + 100).replace(/\t/g, ' ');
  const gutter = `${line} | `;
  return [`  ${gutter}${shown}`, `  ${' '.repeat(gutter.length)}${' '.repeat(column - 1 - from)}^`];
}

function syntaxError(file: string, text: string, format: string, err: TextSyntaxError): PlanFileError {
  const { more = [], total = 1 } = err as YamlSyntaxError;
  const details = [...excerpt(text, err.line, err.column)];
  for (const m of more) details.push(`  line ${m.line}, column ${m.column}: ${m.message}`);
  if (total > more.length + 1) details.push(`  and ${total - more.length - 1} more problems`);
  return new PlanFileError(
    file,
    `${file}:${err.line}:${err.column}: not valid ${format}: ${err.message}`,
    details,
    err.line,
    err.column,
  );
}

/**
 * Deeper than `max`, or holding itself: only a YAML alias pointing into its own anchor gets past
 * the parsers' own bounds. Aliases share objects, so each is looked at once per depth it is
 * reached at, however often it is used.
 */
function deeperThan(
  value: unknown,
  max: number,
  seen = new Map<object, number>(),
  path = new Set<object>(),
): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (max <= 0 || path.has(value)) return true;
  if ((seen.get(value) ?? -1) >= max) return false;
  seen.set(value, max);
  path.add(value);
  const deep = Object.values(value).some((v) => deeperThan(v, max - 1, seen, path));
  path.delete(value);
  return deep;
}

/** Parses plan text: JSON for `.json` files, YAML for everything else. */
export function parsePlanText(file: string, text: string): unknown {
  const format = extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
  let value: unknown;
  try {
    value = format === 'JSON' ? parseJsonText(text, LIMITS.planDepth) : parseYamlText(text);
  } catch (err) {
    if (err instanceof TextSyntaxError) throw syntaxError(file, text, format, err);
    throw new PlanFileError(file, `${file}: not valid ${format}: ${(err as Error).message}`);
  }
  if (deeperThan(value, LIMITS.planDepth))
    throw new PlanFileError(
      file,
      `${file}: nested deeper than ${LIMITS.planDepth} levels (does an alias *name point into its own anchor?)`,
    );
  return value;
}

/** Reads a YAML or JSON plan file; every error names the file (and line and column for syntax). */
export async function readPlanFile(file: string): Promise<unknown> {
  return parsePlanText(file, await readPlanText(file));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A workflow input `{ plan, timeScale }` (the JSON twin's shape) rather than a bare plan. */
export function isWrapped(doc: unknown): doc is Record<string, unknown> {
  return isObject(doc) && 'plan' in doc && !('phases' in doc);
}

/** Accepts either a bare plan or a workflow input `{ plan, timeScale }`. */
export function unwrapPlan(doc: unknown): unknown {
  return isWrapped(doc) ? doc.plan : doc;
}

/** Problems of the `{ plan, timeScale }` wrapper itself: unknown keys, a timeScale out of bounds. */
export function wrapperProblems(doc: unknown): PlanProblem[] {
  if (!isWrapped(doc)) return [];
  const known = ['plan', 'timeScale'];
  const out: PlanProblem[] = [];
  for (const key of Object.keys(doc)) {
    if (known.includes(key) || isCommentKey(key)) continue;
    const guess = closest(key, known);
    out.push({
      path: key,
      message: guess ? `unknown key; did you mean "${guess}"?` : 'unknown key (expected plan, timeScale)',
    });
  }
  if (doc.timeScale !== undefined) {
    const t = rolloutInputSchema.shape.timeScale.safeParse(doc.timeScale);
    if (!t.success) out.push({ path: 'timeScale', message: t.error.issues[0]?.message ?? 'invalid' });
  }
  return out;
}

/** A parsed plan file, validated; `timeScale` is the wrapper's, when it has a valid one. */
export type PlanDocumentValidation = PlanValidation & { timeScale?: number };

/**
 * Validates a parsed file: a bare plan, or a wrapper whose problems are named under `plan.`.
 * `transform` (e.g. `--target-url`) applies to the plan before validation.
 */
export function validatePlanDocument(
  doc: unknown,
  transform: (plan: unknown) => unknown = (p) => p,
): PlanDocumentValidation {
  const v = validatePlan(transform(unwrapPlan(doc)));
  if (!isWrapped(doc)) return v;
  const under = (path: string) =>
    path === '(plan)' ? 'plan' : path.startsWith('[') ? `plan${path}` : `plan.${path}`;
  const problems = [
    ...wrapperProblems(doc),
    ...(v.ok ? [] : v.problems.map((p) => ({ ...p, path: under(p.path) }))),
  ];
  if (problems.length > 0) return { ok: false, problems, warnings: v.warnings };
  return typeof doc.timeScale === 'number' ? { ...v, timeScale: doc.timeScale } : v;
}

export async function loadPlan(file: string): Promise<PlanValidation> {
  return validatePlanDocument(await readPlanFile(file));
}
