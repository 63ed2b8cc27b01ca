import { preview } from '../errors';
import { MetricsGarbageError } from './garbage';

/**
 * A strict reader of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 *
 * Written here rather than taken from `parse-prometheus-text-format` because that parser loses
 * what a garbage report needs: it keeps no line numbers, merges the buckets of every labelled
 * histogram series into one, keeps the last of two equal label names, and drops a last line that
 * has no newline. Histogram and summary series come out as plain samples under their `_bucket`,
 * `_sum` and `_count` names, labels intact.
 */

/** One sample line. `line` counts from 1 in the body it came from. */
export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  line: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const NUMBER = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN|nan)$/;
const TIMESTAMP = /^-?\d+$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * Parses a scrape body into samples by metric name. Throws a `MetricsGarbageError` naming `where`
 * (the URL) and the line: `MetricsTruncated` for a body that does not end with a newline (the
 * format ends every line with one; a body cut after `…} 12` of `…} 1234` would otherwise pass as a
 * complete, smaller sample), `MetricsMalformed` for a line that does not parse.
 */
export function parseExposition(text: string, where: string): Map<string, ExpositionSample[]> {
  const lines = text.split('\n');
  const last = lines.pop()!;
  if (last !== '') {
    throw new MetricsGarbageError(
      'MetricsTruncated',
      `${where}: body truncated: line ${lines.length + 1} ${preview(last)} does not end with a newline`,
    );
  }
  const out = new Map<string, ExpositionSample[]>();
  lines.forEach((raw, index) => {
    const sample = parseLine(raw, index + 1, where);
    if (!sample) return;
    const list = out.get(sample.name) ?? [];
    list.push(sample);
    out.set(sample.name, list);
  });
  return out;
}

function parseLine(raw: string, line: number, where: string): ExpositionSample | undefined {
  const s = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  const fail = (why: string): never => {
    throw new MetricsGarbageError(
      'MetricsMalformed',
      `${where}: not Prometheus text format: line ${line} ${preview(raw)}: ${why}`,
    );
  };
  if (s === '') return undefined;
  if (s.startsWith('#')) {
    checkComment(s, fail);
    return undefined;
  }
  const name = METRIC_NAME.exec(s)?.[0] ?? fail('a sample line starts with a metric name');
  let i = name.length;
  const blanks = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  // Built as a Map: a label named `__proto__` must not touch an object's prototype.
  const labels = new Map<string, string>();
  blanks();
  if (s[i] === '{') {
    i++;
    for (;;) {
      blanks();
      if (s[i] === '}') break;
      const label = LABEL_NAME.exec(s.slice(i))?.[0] ?? fail(`expected a label name at column ${i + 1}`);
      i += label.length;
      blanks();
      if (s[i++] !== '=') fail(`expected "=" after label ${label}`);
      blanks();
      if (s[i++] !== '"') fail(`the value of label ${label} is not quoted`);
      let value = '';
      for (;;) {
        if (i >= s.length) fail(`the value of label ${label} is not closed`);
        const c = s[i++];
        if (c === '"') break;
        if (c !== '\\') {
          value += c;
          continue;
        }
        const escaped = s[i++];
        if (escaped === '\\' || escaped === '"') value += escaped;
        else if (escaped === 'n') value += '\n';
        else fail(`invalid escape \\${escaped ?? ''} in the value of label ${label}`);
      }
      if (labels.has(label)) fail(`label ${label} appears twice`);
      labels.set(label, value);
      blanks();
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] !== '}') fail(`expected "," or "}" after label ${label}`);
      break;
    }
    i++;
  }
  const rest = s.slice(i).trim();
  if (rest === '') fail('has no value');
  const [valueText, timestamp, ...extra] = rest.split(/[ \t]+/);
  if (!NUMBER.test(valueText)) fail(`value ${JSON.stringify(valueText)} is not a number`);
  if (timestamp !== undefined && !TIMESTAMP.test(timestamp))
    fail(`timestamp ${JSON.stringify(timestamp)} is not an integer`);
  if (extra.length) fail(`unexpected ${JSON.stringify(extra.join(' '))} after the timestamp`);
  return { name, labels: Object.fromEntries(labels), value: parseValue(valueText), line };
}

/** `# HELP name text` and `# TYPE name type` must be well formed; other comments are free text. */
function checkComment(s: string, fail: (why: string) => never): void {
  const [keyword, name, ...rest] = s
    .slice(1)
    .trim()
    .split(/[ \t]+/);
  if (keyword !== 'HELP' && keyword !== 'TYPE') return;
  if (!name || METRIC_NAME.exec(name)?.[0] !== name) fail(`# ${keyword} needs a metric name`);
  if (keyword === 'TYPE' && (rest.length !== 1 || !TYPES.has(rest[0])))
    fail(`# TYPE needs one of ${[...TYPES].join(', ')} after the name`);
}

function parseValue(v: string): number {
  const lower = v.toLowerCase().replace(/^\+/, '');
  if (lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  return Number(v);
}
