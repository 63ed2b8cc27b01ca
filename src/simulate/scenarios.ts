/**
 * The steps of a plan and the canaries tried on them (healthy, failing, slow), as cells that
 * `rollout simulate` and `bench/judgement.ts` run alike.
 */
import { formatDuration, parseDuration } from '../plan/duration';
import { checksOf, type CheckName } from '../plan/checks';
import type { Plan } from '../plan/schema';
import type { Cell } from './experiment';
import { TRAFFIC_CHECKS, durationMs, judgeSettingsOf, type StepSpec } from './step-runner';
import {
  BACKEND_BUCKETS,
  DEFAULT_BURSTS,
  DEFAULT_LATENCY,
  type ErrorBursts,
  type Exporter,
  type Fault,
  type Latency,
  type Routing,
  type Swing,
} from './traffic-model';

/** How long a continuous step is watched in a simulation: it has no end of its own. */
export const CONTINUOUS_WINDOW_MS = 3_600_000;

/** A step of a plan with what the simulation needs of it. */
export interface PlanStep extends StepSpec {
  phase: string;
  group: string;
  /** `5%/1h`, `100%/continuous (1h simulated)`. */
  label: string;
  checks: CheckName[];
}

export function planSteps(plan: Plan, continuousWindowMs = CONTINUOUS_WINDOW_MS): PlanStep[] {
  return plan.phases.flatMap((phase) => {
    const checks = checksOf(phase).filter((c) => TRAFFIC_CHECKS.includes(c));
    const windows = phase.steps.map((s) =>
      s.observe === 'continuous' ? continuousWindowMs : (parseDuration(s.observe) ?? 0),
    );
    return phase.steps.map((s, i): PlanStep => {
      const continuous = s.observe === 'continuous';
      const windowMs = windows[i];
      return {
        before: phase.steps.slice(0, i).map((b, j) => ({ percent: b.percent, windowMs: windows[j] })),
        phase: phase.name,
        group: phase.group,
        percent: s.percent,
        windowMs,
        continuous,
        checks,
        label: `${s.percent}%/${continuous ? `continuous (${formatDuration(continuousWindowMs)} simulated)` : s.observe}`,
      };
    });
  });
}

/** What is wrong with the canary, if anything. */
export interface Canary {
  /** Short name used in cell ids and tables. */
  name: string;
  errorRate: { legacy: number; domain: number };
  fault?: Fault;
  /** Errors in bursts, averaging `errorRate`. */
  bursts?: ErrorBursts;
}

/** A healthy canary: both implementations at the base error rate, the same latency. */
export function healthy(baseErrorRate: number): Canary {
  return { name: 'healthy', errorRate: { legacy: baseErrorRate, domain: baseErrorRate } };
}

/** Domain errors at `rate`, from the start or from `startsAtMs`. */
export function domainErrors(baseErrorRate: number, rate: number, startsAtMs = 0): Canary {
  return {
    name: `errors-${rate}${startsAtMs ? `@${startsAtMs}` : ''}`,
    errorRate: { legacy: baseErrorRate, domain: baseErrorRate },
    fault: { domainErrorRate: rate, startsAtMs },
  };
}

/** Every domain latency ×`factor` (so its true P95 too): `1.6` is a +60% P95 regression. */
export function slowerDomain(baseErrorRate: number, factor: number): Canary {
  return {
    name: `p95x${factor}`,
    errorRate: { legacy: baseErrorRate, domain: baseErrorRate },
    fault: { domainLatencyFactor: factor, startsAtMs: 0 },
  };
}

/**
 * Both implementations at the base rate on average, in bursts (`DEFAULT_BURSTS`: ×20 for 1% of
 * the checks, 3 at a time): `shared` bursts hit both at the same checks (a downstream hiccup),
 * `domain` bursts the canary only.
 */
export function burstyErrors(
  baseErrorRate: number,
  scope: ErrorBursts['scope'],
  bursts: Omit<ErrorBursts, 'scope'> = DEFAULT_BURSTS,
): Canary {
  return {
    name: `bursts-${scope}-x${bursts.factor}-${bursts.share}-${bursts.meanChecks}c`,
    errorRate: { legacy: baseErrorRate, domain: baseErrorRate },
    bursts: { scope, ...bursts },
  };
}

/** The domain at a constant `rate` errors from the start (legacy at the base rate). */
export function domainRate(baseErrorRate: number, rate: number): Canary {
  return { name: `domain-${rate}`, errorRate: { legacy: baseErrorRate, domain: rate } };
}

/** Every domain latency +`addMs` (a slower dependency): +200 ms moves the P95 from 91 to 291 ms. */
export function slowerDomainBy(baseErrorRate: number, addMs: number): Canary {
  return {
    name: `p95+${addMs}ms`,
    errorRate: { legacy: baseErrorRate, domain: baseErrorRate },
    fault: { domainLatencyAddMs: addMs, startsAtMs: 0 },
  };
}

/** Both implementations at `rate` errors (a shared dependency fails, not the canary). */
export function bothFailing(rate: number): Canary {
  return { name: `both-${rate}`, errorRate: { legacy: rate, domain: rate } };
}

/** The traffic a cell runs at. */
export interface Load {
  rps: number;
  routing: Routing;
  buckets?: readonly number[];
  latency?: Latency;
  /** Volume swings around `rps`. */
  swing?: Swing;
  /** What the exporter gives (default: keys and histogram). */
  exporter?: Exporter;
}

export const routingName = (r: Routing) =>
  r.kind === 'sticky'
    ? `sticky ${r.users} users${r.activity ? ` zipf ${r.activity.exponent}` : ''}`
    : 'per request';

/** The load's conditions beyond routing and buckets, as cell ids show them ('' for none). */
export function loadExtras(load: Load): string {
  const parts: string[] = [];
  if (load.swing)
    parts.push(
      `swing ${load.swing.shape} ${load.swing.low}-${load.swing.high}x ${formatDuration(load.swing.periodMs)}`,
    );
  if (load.exporter?.keys === false) parts.push('no keys');
  if (load.exporter?.histogram === false) parts.push('no histogram');
  return parts.map((p) => `/${p}`).join('');
}

/** One step of `plan` with one canary at one load, `runs` times. */
export function cellFor(
  plan: Plan,
  step: PlanStep,
  canary: Canary,
  load: Load,
  runs: number,
  seed: string,
): Cell {
  const bucketsName =
    load.buckets === undefined || load.buckets === BACKEND_BUCKETS ? 'backend' : `${load.buckets.length}b`;
  return {
    id: `${step.phase}/${step.label}/${canary.name}/R${load.rps}/${routingName(load.routing)}/${bucketsName}${loadExtras(load)}`,
    seed,
    runs,
    traffic: {
      rps: load.rps,
      percent: step.percent,
      checkIntervalMs: durationMs(plan.defaults.checkInterval),
      routing: load.routing,
      errorRate: canary.errorRate,
      latency: load.latency ?? DEFAULT_LATENCY,
      buckets: load.buckets ?? BACKEND_BUCKETS,
      fault: canary.fault,
      ...(canary.bursts ? { bursts: canary.bursts } : {}),
      ...(load.swing ? { swing: load.swing } : {}),
      ...(load.exporter ? { exporter: load.exporter } : {}),
    },
    step: {
      percent: step.percent,
      windowMs: step.windowMs,
      continuous: step.continuous,
      ...(step.before ? { before: step.before } : {}),
    },
    settings: judgeSettingsOf(plan, step.checks),
  };
}
