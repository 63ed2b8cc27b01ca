/**
 * The options and arguments of every verb, checked with zod before anything connects, reads a
 * target or starts: a bad value exits 2 naming the option, instead of failing later as
 * "Temporal unreachable" or, worse, being silently ignored (`--target-url ""`).
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../plan/duration';
import { LIMITS } from '../plan/limits';
import { ROLLOUT_STATES } from '../contracts/definitions';
import { METRICS_PRESETS } from '../plan/metrics-conventions';
import { BY_RULE, checkGroup, checkText, NOTE_RULE, REQUEST_LIMITS, type TextRule } from '../contracts/requests';
import { CliError, EXIT } from './errors';

/**
 * Bounds of the CLI's own values. Workflow ids: Temporal's default `limit.maxIDLength` is 1,000
 * bytes; past it the server refuses the id after we connected.
 */
export const OPTION_LIMITS = {
  workflowIdBytes: 1000,
  /** `--by`, `--comment`, `--reason`, `--group`: the workflow checks the same (contracts/requests.ts). */
  ...REQUEST_LIMITS,
  /** `watch --interval`, seconds: under 0.1 s is a busy loop; past an hour nobody is watching. */
  intervalSeconds: { min: 0.1, max: 3600 },
  /** `list --limit`. */
  listLimit: { min: 1, max: 10_000 },
  /** `verify --window`: one sample; Node timers cannot wait past ~24.8 days anyway. */
  verifyWindowMs: { min: 1_000, max: 3_600_000 },
} as const;

// Control characters in an id break the one-line output and the record.
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Plain decimal notation: no hex, binary, `Infinity` or empty string (all of which `Number` takes). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

const got = (raw: string) => `(got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw)})`;
const fail = (ctx: z.RefinementCtx, message: string) => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

/** A number in `[min, max]` written in decimal; `what` completes "must be a number of …". */
export function numberOption(b: { min: number; max: number; integer?: boolean; what?: string }) {
  const kind = b.integer ? 'a whole number' : 'a number';
  const message = `must be ${kind}${b.what ? ` of ${b.what}` : ''} from ${b.min} to ${b.max}`;
  return z.string().transform((raw, ctx) => {
    const s = raw.trim();
    const n = DECIMAL.test(s) ? Number(s) : NaN;
    // 1e-320 is finite and positive, and still below any bound that means something.
    if (!Number.isFinite(n) || n < b.min || n > b.max || (b.integer && !Number.isInteger(n)))
      return fail(ctx, `${message} ${got(raw)}`);
    return n;
  });
}

/** A duration like `15s` in `[min, max]` milliseconds; resolves to milliseconds. */
export function durationOption(b: { min: number; max: number }) {
  const message = `must be a duration from ${formatDuration(b.min)} to ${formatDuration(b.max)}, like 15s or 1m`;
  return z.string().transform((raw, ctx) => {
    const ms = parseDuration(raw);
    if (ms === undefined || !Number.isFinite(ms) || ms < b.min || ms > b.max)
      return fail(ctx, `${message} ${got(raw)}`);
    return ms;
  });
}

/** Text that is trimmed, not empty, at most `max` characters, without control characters. */
export function textOption(rule: TextRule) {
  return z.string().transform((raw, ctx) => {
    const r = checkText(raw, rule);
    return r.ok ? r.value : fail(ctx, r.problem);
  });
}

/** `--by`: who sends the signal (the workflow records and matches it trimmed). */
export const byOption = textOption(BY_RULE);
/** `--comment`, `--reason`. */
export const noteOption = textOption(NOTE_RULE);

/**
 * A workflow id as given (`--id`, or the `<id>` of a verb): not trimmed, since Temporal would keep
 * the spaces and nobody could type the id back; within Temporal's length limit.
 */
export const workflowIdOption = z.string().transform((raw, ctx) => {
  if (raw.trim() === '') return fail(ctx, `must not be empty ${got(raw)}`);
  if (raw.trim() !== raw) return fail(ctx, `must not start or end with spaces ${got(raw)}`);
  if (CONTROL.test(raw)) return fail(ctx, `must not contain control characters ${got(raw)}`);
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > OPTION_LIMITS.workflowIdBytes)
    return fail(
      ctx,
      `must be at most ${OPTION_LIMITS.workflowIdBytes} bytes (Temporal's limit; got ${bytes})`,
    );
  return raw;
});

/** A target id as plans spell it (`list --target`); also keeps the visibility query well-formed. */
export const targetIdOption = z.string().transform((raw, ctx) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(raw))
    return fail(ctx, `must be a target id: letters, digits, ".", "_" or "-" ${got(raw)}`);
  if (raw.length > LIMITS.targetIdLength)
    return fail(ctx, `must be at most ${LIMITS.targetIdLength} characters (got ${raw.length})`);
  return raw;
});

/** A group name as plans spell it (`rollback --group`). */
export const groupOption = z.string().transform((raw, ctx) => {
  const r = checkGroup(raw);
  return r.ok ? r.value : fail(ctx, r.problem);
});

/** `--target-url`: an http(s) URL (an empty one used to be ignored without a word). */
export const urlOption = z.string().transform((raw, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    return fail(ctx, `must be an http(s) URL ${got(raw)}`);
  return raw;
});

/** One of `values`; the message lists them. */
export function choiceOption<const T extends readonly string[]>(what: string, values: T) {
  return z.string().transform((raw, ctx): T[number] => {
    if (!(values as readonly string[]).includes(raw))
      return fail(ctx, `unknown ${what} ${JSON.stringify(raw)} (one of ${values.join(', ')})`);
    return raw;
  });
}

/** `list --state`. */
export const stateOption = choiceOption('state', ROLLOUT_STATES);

/** `init --router`: the plan's traffic providers. */
export const INIT_ROUTERS = ['http', 'env-file', 'haproxy', 'nginx', 'command'] as const;
/** `init --metrics`: the plan's metrics sources. */
export const INIT_METRICS = ['exposition', 'prometheus'] as const;

/**
 * `init`'s answers. Only what a flag can get wrong on its own is checked here (a URL, a choice);
 * names, addresses and argvs are the plan's to check, with its paths (init-plan.ts).
 */
const initAnswerFields = {
  name: textOption({ max: OPTION_LIMITS.nameLength, hint: 'give the plan a name' }).optional(),
  targetId: targetIdOption.optional(),
  targetUrl: urlOption.optional(),
  router: choiceOption('router', INIT_ROUTERS).optional(),
  adminUrl: urlOption.optional(),
  tokenEnv: z.string().optional(),
  envFile: z.string().optional(),
  restartCommand: z.string().optional(),
  healthUrl: urlOption.optional(),
  haproxySocket: z.string().optional(),
  backend: z.string().optional(),
  legacyServer: z.string().optional(),
  domainServer: z.string().optional(),
  nginxFile: z.string().optional(),
  nginxBin: z.string().optional(),
  nginxPrefix: z.string().optional(),
  nginxConf: z.string().optional(),
  statusListen: z.string().optional(),
  upstream: z.string().optional(),
  legacyAddress: z.string().optional(),
  domainAddress: z.string().optional(),
  setCommand: z.string().optional(),
  readCommand: z.string().optional(),
  metrics: choiceOption('metrics source', INIT_METRICS).optional(),
  metricsUrl: urlOption.optional(),
  prometheusUrl: urlOption.optional(),
  selector: z.string().optional(),
  preset: choiceOption('preset', METRICS_PRESETS).optional(),
  impl: z.string().optional(),
  endpoint: z.array(z.string()),
  group: z.array(z.string()),
  param: z.array(z.string()),
};
/** One answer's check, for a prompt that asks again when it fails. */
export const INIT_ANSWER_FIELDS: Record<string, z.ZodType<unknown, unknown>> = initAnswerFields;

/** `--time-scale` (the workflow refuses the same bounds). */
export const timeScaleOption = numberOption(LIMITS.timeScale);

const flag = z.boolean().optional();
/** Options of each verb. Strict: an option added to a verb but not here is an error, not unchecked. */
export const VERB_OPTIONS = {
  start: z
    .strictObject({
      targetUrl: urlOption.optional(),
      timeScale: timeScaleOption.optional(),
      id: workflowIdOption.optional(),
      resumeFromCurrent: flag,
      fromZero: flag,
    })
    .refine((o) => !(o.resumeFromCurrent && o.fromZero), {
      message: 'choose one of --resume-from-current and --from-zero',
      path: ['fromZero'],
    }),
  status: z.strictObject({ json: flag }),
  history: z.strictObject({ json: flag }),
  watch: z.strictObject({
    interval: numberOption({ ...OPTION_LIMITS.intervalSeconds, what: 'seconds' }),
    plain: flag,
    exitStatus: flag,
  }),
  approve: z.strictObject({ by: byOption, comment: noteOption.optional() }),
  pause: z.strictObject({ by: byOption, reason: noteOption.optional() }),
  resume: z.strictObject({ by: byOption }),
  rollback: z.strictObject({ by: byOption, reason: noteOption.optional(), group: groupOption.optional() }),
  complete: z.strictObject({ by: byOption }),
  list: z.strictObject({
    state: stateOption.optional(),
    target: targetIdOption.optional(),
    running: flag,
    limit: numberOption({ ...OPTION_LIMITS.listLimit, integer: true }),
    json: flag,
  }),
  verify: z
    .strictObject({
      phase: textOption({ max: OPTION_LIMITS.nameLength, hint: 'give a phase name or group' }).optional(),
      targetUrl: urlOption.optional(),
      window: durationOption(OPTION_LIMITS.verifyWindowMs),
      metrics: z.boolean(),
      json: flag,
      explain: flag,
    })
    // --explain shows what the metrics sample reads: without a sample there is nothing to show.
    .refine((o) => !(o.explain && !o.metrics), {
      message: 'shows what the metrics sample reads: it cannot be given with --no-metrics',
      path: ['explain'],
    }),
  setup: z.strictObject({}),
  init: z.strictObject({
    ...initAnswerFields,
    out: textOption({ max: 4096, hint: 'give a file name' }),
    force: flag,
    yes: flag,
    interactive: flag,
    verify: z.boolean(),
  }),
  ui: z.strictObject({
    port: numberOption({ min: 0, max: 65535, integer: true, what: 'a TCP port (0 picks a free one)' }),
    host: textOption({ max: 255, hint: 'give an address to listen on, like 127.0.0.1' }),
    uiToken: textOption({ max: 200, hint: 'leave it out to get a random token' }).optional(),
  }),
} as const;

export type Verb = keyof typeof VERB_OPTIONS;
export type VerbOptions<V extends Verb> = z.output<(typeof VERB_OPTIONS)[V]>;

/** `timeScale` → `--time-scale`: options are named in messages as the operator typed them. */
const flagName = (key: PropertyKey) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function toCliError(issues: z.core.$ZodIssue[], name: (issue: z.core.$ZodIssue) => string): CliError {
  const lines = issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => `${flagName(k)}: not an option of this command`)
      : [`${name(i)}: ${i.message}`],
  );
  if (lines.length === 1) return new CliError(lines[0], EXIT.invalid);
  return new CliError(
    `${lines.length} invalid options:`,
    EXIT.invalid,
    lines.map((l) => `  ${l}`),
  );
}

/** Checks a verb's options (as commander hands them over); every problem names its option (exit 2). */
export function parseOptions<V extends Verb>(verb: V, raw: unknown): VerbOptions<V> {
  const r = VERB_OPTIONS[verb].safeParse(raw);
  if (!r.success) throw toCliError(r.error.issues, (i) => (i.path.length ? flagName(i.path[0]) : 'options'));
  return r.data as VerbOptions<V>;
}

/** Checks a positional argument (`<id>`) with its schema; the message names it as usage shows it. */
export function parseArgument<T>(name: string, schema: z.ZodType<T, string>, raw: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw toCliError(r.error.issues, () => name);
  return r.data;
}
