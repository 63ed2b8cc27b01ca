import { randomBytes } from 'node:crypto';
import type { WriteProbeReport } from '../judge/samples';
import { parseEndpoint } from '../plan/endpoints';
import type { ProbeCheck, WriteLifecycle, WriteStep } from '../plan/probes-schema';
import { defaultRecord } from '../plan/probe-rules';
import type { ConsistencyProvider } from '../providers/consistency';
import { formatValue, sameValue } from '../providers/consistency';
import { messageOf } from '../providers/errors';
import { pick } from '../probes/json-path';
import { schemaLabel, type ProbeSchemas } from '../probes/json-schemas';
import { fillPath, fillValue } from '../probes/templates';
import { heartbeat } from './context';
import { ProbeFailure, ProbeRecords, describeRecord, type RecordRef } from './probe-records';
import { compareStructure } from './structure';
import {
  answeredElsewhere,
  describeCall,
  expectsFailure,
  isServerError,
  statusMatches,
  type Impl,
  type TargetClient,
} from './target-client';

/** What a lifecycle run needs besides its declaration. */
export interface LifecycleContext {
  client: TargetClient;
  schemas: ProbeSchemas;
  rolloutId: string;
  /** The target's stores, for lifecycles with `lookup: consistency`. */
  consistency?: ConsistencyProvider;
}

type Vars = Record<string, unknown>;
type Item = Record<string, unknown>;

const isMapping = (v: unknown): v is Item => typeof v === 'object' && v !== null && !Array.isArray(v);
const stepName = (step: WriteStep) => step.name ?? step.request;
const runsIn = (step: WriteStep, check: ProbeCheck) => !step.checks || step.checks.includes(check);

/**
 * A lifecycle's variables at its start: the rollout and a token no other run shares (spelled as
 * `TOKEN_PATTERN` says, which cleanup relies on to recognise a crashed run's records).
 */
function freshVars(rolloutId: string): Vars {
  return { rollout: rolloutId, token: randomBytes(5).toString('hex') };
}

/** What a step sent (its values filled in) and what came back (`undefined` for a step that must fail). */
interface Sent {
  body: unknown;
  answer: unknown;
}

/** Sends one step through `impl` and checks its answer; captures land in `vars`. */
async function sendStep(ctx: LifecycleContext, step: WriteStep, impl: Impl, vars: Vars): Promise<Sent> {
  const { method, route } = parseEndpoint(step.request);
  const body = fillValue(step.body, vars);
  const headers = fillValue(step.headers, vars) as Record<string, string> | undefined;
  const r = await ctx.client.call(method, fillPath(route, vars), { impl, body, headers });
  const via = `${step.request} via ${impl}`;
  const elsewhere = answeredElsewhere(r, impl, via);
  if (elsewhere) throw new ProbeFailure(elsewhere);
  if (!statusMatches(r.status, step.status))
    throw new ProbeFailure(
      `${via}: ${describeCall(r)} (expected ${step.status})`,
      isServerError(r) && !expectsFailure(step.status),
    );
  if (expectsFailure(step.status)) return { body, answer: undefined };
  if (step.schema !== undefined) {
    const issues = ctx.schemas.mismatches(step.schema, r.body);
    if (issues.length)
      throw new ProbeFailure(
        `${via}: answer does not match ${schemaLabel(step.schema, step.request)}: ${issues.join('; ')}`,
      );
  }
  if (step.echo && isMapping(body)) {
    for (const [f, sent] of Object.entries(body)) {
      const answered = isMapping(r.body) ? r.body[f] : undefined;
      if (!sameValue(sent, answered))
        throw new ProbeFailure(`${via}: answered ${f}=${formatValue(answered)}, sent ${formatValue(sent)}`);
    }
  }
  for (const [name, path] of Object.entries(step.capture ?? {})) {
    const value = pick(r.body, path);
    if (value === undefined || value === null)
      throw new ProbeFailure(
        `${via}: ${path} (capture ${name}) is missing in the answer (${describeCall(r)})`,
      );
    vars[name] = value;
  }
  return { body, answer: r.body };
}

function recordOf(step: WriteStep, vars: Vars): RecordRef {
  const record = step.record ?? defaultRecord(step);
  if (record === undefined) throw new ProbeFailure(`${stepName(step)}: stored needs a record`);
  if (typeof record === 'string') {
    const id = fillValue(record, vars);
    return { id: typeof id === 'number' ? id : String(id) };
  }
  return { field: record.field, equals: fillValue(record.equals, vars) };
}

const recordKey = (ref: RecordRef) =>
  'id' in ref ? `id:${String(ref.id)}` : `${ref.field}=${JSON.stringify(ref.equals)}`;

/**
 * One lifecycle as the write probe runs it, all through `X-Rollout-Force: domain`: every step,
 * and after each step that says `stored`, the record in both stores and both listings. Probe
 * records are removed first (a crashed probe's leftovers) and always at the end, also after a
 * failure half-way: a probe record must never stay in a production store.
 */
async function probeLifecycle(
  ctx: LifecycleContext,
  life: WriteLifecycle,
  steps: string[],
): Promise<string | undefined> {
  if (life.lookup === 'consistency' && !ctx.consistency)
    return 'lookup: consistency needs target.consistency';
  const records = new ProbeRecords(
    ctx.client,
    life,
    ctx.rolloutId,
    life.lookup === 'consistency' ? ctx.consistency : undefined,
  );
  const vars = freshVars(ctx.rolloutId);
  const expected = new Map<string, Item | null>();
  const ids: Array<string | number> = [];
  const step = (text: string) => {
    steps.push(text);
    heartbeat(text);
  };
  try {
    const before = await records.cleanup();
    if (before.removed.length)
      step(`removed ${before.removed.length} leftover probe record(s): ${before.removed.join(', ')}`);
    if (before.failed.length)
      throw new ProbeFailure(`cannot remove leftover probe records: ${before.failed.join('; ')}`);
    for (const s of life.steps.filter((x) => runsIn(x, 'writeProbe'))) {
      const name = stepName(s);
      const { body } = await sendStep(ctx, s, 'domain', vars);
      const failing = expectsFailure(s.status);
      step(failing ? `${name}: failed as it must (${s.status})` : `${name}: ${s.request} via domain`);
      if (s.stored === undefined) continue;
      const ref = recordOf(s, vars);
      if ('id' in ref) ids.push(ref.id);
      const key = recordKey(ref);
      const prev = expected.get(key) ?? null;
      const now =
        s.stored === 'gone'
          ? null
          : s.stored === 'sent'
            ? { ...(prev ?? {}), ...(isMapping(body) ? body : {}) }
            : prev;
      await records.expectStored(ref, now, `after ${name}`);
      expected.set(key, now);
      const rec = describeRecord(ref);
      step(
        now === null
          ? `after ${name}: ${rec} gone from ${records.reads}`
          : s.stored === 'sent'
            ? `after ${name}: ${rec} in ${records.reads}, with the sent fields`
            : `after ${name}: ${rec} unchanged in ${records.reads}`,
      );
    }
    return undefined;
  } catch (err) {
    return messageOf(err);
  } finally {
    try {
      const after = await records.cleanup(ids);
      if (after.removed.length) steps.push(`cleanup removed ${after.removed.join(', ')}`);
      if (after.failed.length) steps.push(`cleanup could not remove ${after.failed.join('; ')}`);
    } catch (err) {
      steps.push(`cleanup failed: ${messageOf(err)}`);
    }
  }
}

/** The write probe (SPEC §1, "writes are atomic, data saved and updated correctly") over the given lifecycles. */
export async function runWriteProbe(
  ctx: LifecycleContext,
  lifecycles: WriteLifecycle[],
): Promise<WriteProbeReport> {
  if (!lifecycles.length)
    return { ok: false, steps: [], failure: 'no write lifecycle in target.probes.writes covers this phase' };
  const steps: string[] = [];
  for (const life of lifecycles) {
    const own: string[] = [];
    const failure = await probeLifecycle(ctx, life, own);
    steps.push(...(lifecycles.length > 1 ? own.map((s) => `${life.name}: ${s}`) : own));
    if (failure)
      return { ok: false, steps, failure: lifecycles.length > 1 ? `${life.name}: ${failure}` : failure };
  }
  return { ok: true, steps };
}

/** Failures of the functional check's lifecycle runs. */
export interface LifecycleResult {
  failures: string[];
  serverErrors: number;
}

/**
 * The functional check of the write endpoints: each lifecycle once through each implementation
 * (its steps' statuses, schemas, echoes and captures; the stores are the write probe's), then the
 * two implementations' answers compared in structure, step by step.
 */
export async function runFunctionalLifecycles(
  ctx: LifecycleContext,
  lifecycles: WriteLifecycle[],
): Promise<LifecycleResult> {
  const failures: string[] = [];
  let serverErrors = 0;
  for (const life of lifecycles) {
    const records = new ProbeRecords(ctx.client, life, ctx.rolloutId);
    const steps = life.steps.filter((s) => runsIn(s, 'functional'));
    const answers: Record<Impl, unknown[]> = { legacy: [], domain: [] };
    const ids: Array<string | number> = [];
    try {
      const before = await records.cleanup();
      if (before.failed.length)
        failures.push(`cannot remove leftover probe records: ${before.failed.join('; ')}`);
      for (const impl of ['legacy', 'domain'] as const) {
        const vars = freshVars(ctx.rolloutId);
        try {
          for (const [i, s] of steps.entries()) {
            heartbeat(`functional ${life.name} via ${impl}: ${stepName(s)}`);
            answers[impl][i] = (await sendStep(ctx, s, impl, vars)).answer;
            for (const name of Object.keys(s.capture ?? {})) {
              const v = vars[name];
              if (typeof v === 'string' || typeof v === 'number') ids.push(v);
            }
          }
        } catch (err) {
          failures.push(messageOf(err));
          if (err instanceof ProbeFailure && err.serverError) serverErrors++;
        }
      }
      steps.forEach((s, i) => {
        const [l, d] = [answers.legacy[i], answers.domain[i]];
        if (l === undefined || d === undefined) return;
        const diff = compareStructure(l, d);
        if (diff.length)
          failures.push(`${s.request}: legacy and domain answers differ in structure: ${diff.join('; ')}`);
      });
    } finally {
      await records.cleanup(ids).catch(() => undefined);
    }
  }
  return { failures, serverErrors };
}
