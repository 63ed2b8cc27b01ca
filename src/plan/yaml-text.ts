import { CST, LineCounter, Parser, parseAllDocuments, type YAMLError } from 'yaml';
import { LIMITS } from './limits';
import { lineColumn, TextSyntaxError } from './json-text';

/**
 * YAML plan text to a value. YAML 1.2 core schema (so `yes` and `0o17` mean what they say in
 * every YAML 1.2 reader), `<<` merge keys applied, duplicate keys refused (also `1` beside
 * `"1"`: every key is a string), unknown tags (`!!js/function`) refused instead of warned
 * about, nothing written to the console.
 */

/** Past this many `[`/`{` open at once the yaml library would run out of stack; say so first. */
const MAX_FLOW_DEPTH = 256;

function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return undefined;
}

/** Each escape of a double-quoted scalar; group 1 is set when it is none of YAML's (1.2 §5.7). */
const ESCAPE = /\\(?:[0abt\tnvfre "/\\N_LP\n\r]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|(.|$))/gs;

/**
 * Bad escapes in double-quoted scalars, found on the concrete syntax tree (milliseconds) before
 * the library resolves the scalars: it builds one error object per bad escape, which takes seconds
 * for a file of nothing else.
 */
function badEscapes(text: string): { offset: number; count: number } | undefined {
  let first: number | undefined;
  let count = 0;
  for (const doc of new Parser().parse(text)) {
    if (doc.type !== 'document') continue;
    const tokens: CST.Token[] = doc.value ? [doc.value] : [];
    CST.visit(doc, (item) => {
      if (item.key) tokens.push(item.key);
      if (item.value) tokens.push(item.value);
    });
    for (const t of tokens) {
      if (t.type !== 'double-quoted-scalar') continue;
      for (const m of t.source.matchAll(ESCAPE)) {
        if (m[1] === undefined) continue;
        first ??= t.offset + m.index;
        count++;
      }
    }
  }
  return first === undefined ? undefined : { offset: first, count };
}

function at(text: string, message: string, offset: number): TextSyntaxError {
  const { line, column } = lineColumn(text, offset);
  return new TextSyntaxError(message, offset, line, column);
}

/** Problems described one by one; the rest are counted. */
const SHOWN = 5;

const MESSAGES: Record<string, (e: YAMLError) => string> = {
  DUPLICATE_KEY: () => 'duplicate key: keys must be unique',
  TAG_RESOLVE_FAILED: (e) =>
    `unknown tag ${e.message.replace(/^Unresolved tag: /, '').replace(/^tag:yaml\.org,2002:/, '!!')}: plans use plain YAML values only`,
  NON_STRING_KEY: () => 'keys must be plain names, not lists or mappings',
  RESOURCE_EXHAUSTION: () => `nested too deeply (at most ${LIMITS.planDepth} levels)`,
};

/** The first few syntax problems, in the order of the text (a person fixes them top down). */
function problemsOf(text: string, errors: YAMLError[]): TextSyntaxError[] {
  return [...errors]
    .sort((a, b) => a.pos[0] - b.pos[0])
    .slice(0, SHOWN)
    .map((e) => at(text, (MESSAGES[e.code] ?? ((x: YAMLError) => x.message))(e), e.pos[0]));
}

/**
 * Parses `text`; on failure throws the first problem as a TextSyntaxError whose `more` lists the
 * rest.
 */
export function parseYamlText(text: string): unknown {
  const deep = tooDeep(text);
  if (deep !== undefined) throw at(text, `nested deeper than ${MAX_FLOW_DEPTH} levels of [ or {`, deep);
  const escapes = badEscapes(text);
  if (escapes) {
    const e: YamlSyntaxError = at(
      text,
      `invalid escape sequence ${text.slice(escapes.offset, escapes.offset + 2)}`,
      escapes.offset,
    );
    e.total = escapes.count;
    throw e;
  }
  const lineCounter = new LineCounter();
  // Thousands of bad escapes make thousands of errors: without stack traces they cost microseconds.
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const docs = parseAllDocuments(text, {
      schema: 'core',
      merge: true,
      uniqueKeys: true,
      stringKeys: true,
      strict: true,
      prettyErrors: false,
      logLevel: 'silent',
      lineCounter,
    });
    // An empty stream is an array too, with the errors of its directives, if any.
    const list = [...docs];
    const streamErrors = (docs as { errors?: YAMLError[] }).errors ?? [];
    if (list.length === 0 && streamErrors.length > 0)
      throw fromErrors(text, problemsOf(text, streamErrors), streamErrors.length);
    if (list.length === 0) throw at(text, 'the file holds no plan (it is empty or only comments)', 0);
    if (list.length > 1 && list[1].range)
      throw at(text, 'more than one YAML document ("---"): a plan file holds one plan', list[1].range[0]);
    const doc = list[0];
    const all = [...doc.errors, ...doc.warnings];
    if (all.length > 0) throw fromErrors(text, problemsOf(text, all), all.length);
    try {
      return doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      const message = (err as Error).message;
      throw at(
        text,
        /alias count/i.test(message)
          ? 'too many alias expansions (*name): at most 100 are allowed'
          : `cannot be read as a plan: ${message}`,
        0,
      );
    }
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
}

/** The first problem, carrying the next few and how many there were in all. */
export interface YamlSyntaxError extends TextSyntaxError {
  more?: TextSyntaxError[];
  total?: number;
}

function fromErrors(text: string, problems: TextSyntaxError[], total: number): YamlSyntaxError {
  const first: YamlSyntaxError = problems[0] ?? at(text, 'not valid YAML', 0);
  first.more = problems.slice(1);
  first.total = total;
  return first;
}
