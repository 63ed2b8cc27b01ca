/**
 * What looks like a secret is taken out of the text a rollout shows (issue 21): a command's output,
 * a target's error body, a store's difference all end up in `status`, in Temporal's history and on
 * the rollout page, where anyone who can read a rollout reads them. Redaction is a net, not the
 * guard (the worker's policy decides what a plan may reach); it errs towards hiding.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** Variable names whose values are secrets wherever they appear. */
const SECRET_NAME =
  /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|COOKIE/i;

/** Shorter values are too likely to be ordinary words (`true`, `read`, a port). */
const MIN_SECRET_LENGTH = 6;

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
/** `Authorization: Bearer abc…`, `Basic …`: the scheme stays, the credential goes. */
const AUTH_SCHEME = /\b(Bearer|Basic|Token|Digest)(\s+)[A-Za-z0-9._~+/=-]{4,}/gi;
/** `password=…`, `"token": "…"`, `api_key: …`, `Cookie: …` (the key must be the whole word). */
const KEY_VALUE =
  /(\b(?:password|passwd|pwd|passphrase|secret|client_secret|token|access_token|refresh_token|id_token|auth_token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|authorization|credentials?|cookie|set-cookie|session_?id)\b["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|\[redacted\]|[^\s"',;&}\]]+)/gi;
/** `https://user:password@host`. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)([^\s/@]+)(@)/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
const LONG_HEX = /\b[0-9a-fA-F]{32,}\b/g;
const LONG_BASE64 = /[A-Za-z0-9+/_-]{40,}={0,2}/g;

/** A long run that mixes cases and digits: a key or token, not a word or a path. */
function looksRandom(run: string): boolean {
  return /[a-z]/.test(run) && /[A-Z]/.test(run) && /[0-9]/.test(run) && !/\/\w+\//.test(run);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The values of the environment's secrets: variables with a secret's name, and `also` (e.g. the tokenEnv allow-list). */
export function secretValues(
  env: Record<string, string | undefined>,
  also: (name: string) => boolean = () => false,
): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    const v = value?.trim();
    if (!v || v.length < MIN_SECRET_LENGTH) continue;
    if (SECRET_NAME.test(name) || also(name)) values.add(v);
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

export type Redact = (text: string) => string;

/** A redactor for the given secret values (and every pattern above). */
export function createRedactor(secrets: readonly string[] = []): Redact {
  const known = secrets.length ? new RegExp(secrets.map(escapeRegExp).join('|'), 'g') : null;
  return (text: string) => {
    if (typeof text !== 'string' || text === '') return text;
    let out = known ? text.replace(known, REDACTED) : text;
    out = out
      .replace(PRIVATE_KEY, `[redacted private key]`)
      .replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`)
      .replace(KEY_VALUE, (m, key: string, value: string) => {
        // Already done: a redacted value, or the scheme of `Authorization: Bearer [redacted]`.
        if (value.includes(REDACTED) || /^(Bearer|Basic|Token|Digest)$/i.test(value)) return m;
        const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
        return `${key}${q}${REDACTED}${q}`;
      })
      .replace(URL_USERINFO, `$1${REDACTED}$3`)
      .replace(JWT, REDACTED)
      .replace(LONG_HEX, REDACTED)
      .replace(LONG_BASE64, (run) => (looksRandom(run) ? REDACTED : run));
    return out;
  };
}

/** Every string in a JSON-like value redacted (a copy; other values as they are). */
export function redactDeep<T>(value: T, redact: Redact): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}

/**
 * The same error with its message (and stack, which Temporal sends along) redacted, through its
 * causes; its class and type are kept, so a non-retryable failure stays one.
 */
export function redactError(err: unknown, redact: Redact, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 5) return err;
  // The stack was written with the original message: it is redacted whatever the message was.
  const stack = err.stack;
  const message = redact(err.message);
  if (message !== err.message) err.message = message;
  if (stack) err.stack = redact(stack);
  if (err.cause) redactError(err.cause, redact, depth + 1);
  return err;
}
