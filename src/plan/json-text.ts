/**
 * A strict JSON reader for plan files. JSON.parse keeps the last of two equal keys (so
 * `"approval":"before-start","approval":"none"` silently drops an approval gate) and reports a
 * byte offset; this one refuses duplicate keys and says line and column. Linear time, bounded
 * nesting. Pure.
 */

/** A syntax error at a place in the text (1-based line and column). */
export class TextSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'TextSyntaxError';
  }
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function describeChar(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  if (c === '\n') return 'a line break';
  if (/[\x00-\x1f]/.test(c)) return `control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return c === '"' ? `'"'` : `"${c}"`;
}

/** Parses one JSON value. Throws TextSyntaxError (the first problem only: later ones may be echoes). */
export function parseJsonText(text: string, maxDepth: number): unknown {
  let i = 0;
  const fail = (message: string, at = i): never => {
    const { line, column } = lineColumn(text, at);
    throw new TextSyntaxError(message, at, line, column);
  };
  const space = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else break;
    }
  };
  const expect = (c: string, what: string): void => {
    if (text[i] !== c) fail(`expected ${what}, found ${describeChar(text[i])}`);
    i++;
  };

  const string = (): string => {
    const start = i;
    i++; // the opening quote
    let out = '';
    let run = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text[i];
      if (c === '"') break;
      if (c < ' ') fail(`${describeChar(c)} inside a string (write it as an escape like \\n)`);
      if (c !== '\\') {
        i++;
        continue;
      }
      out += text.slice(run, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail('invalid escape: \\u must be followed by 4 hex digits');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        i += 2;
      } else fail(`invalid escape \\${e ?? ''} (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
      run = i;
    }
    out += text.slice(run, i);
    i++; // the closing quote
    return out;
  };

  const value = (depth: number): unknown => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      return c === '{' ? object(depth + 1) : array(depth + 1);
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) fail(`invalid number`);
      i += m![0].length;
      return Number(m![0]);
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const)
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    return fail(
      c === undefined
        ? 'unexpected end of the file: expected a value'
        : `expected a value, found ${describeChar(c)}`,
    );
  };

  const object = (depth: number): Record<string, unknown> => {
    i++; // {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    space();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      space();
      if (text[i] !== '"') fail(`expected a key in double quotes, found ${describeChar(text[i])}`);
      const at = i;
      const key = string();
      const first = seen.get(key);
      if (first !== undefined)
        fail(
          `duplicate key ${JSON.stringify(key)} (first at line ${lineColumn(text, first).line}): keys must be unique`,
          at,
        );
      seen.set(key, at);
      space();
      expect(':', '":" after the key');
      // defineProperty: a "__proto__" key stays a key, not the object's prototype.
      Object.defineProperty(out, key, {
        value: value(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      expect('}', '"," or "}"');
      return out;
    }
  };

  const array = (depth: number): unknown[] => {
    i++; // [
    const out: unknown[] = [];
    space();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth));
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      expect(']', '"," or "]"');
      return out;
    }
  };

  const result = value(0);
  space();
  if (i < text.length) fail(`unexpected ${describeChar(text[i])} after the end of the JSON value`);
  return result;
}
