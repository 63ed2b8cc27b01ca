import { PlanFileError, readPlanFile, validatePlanDocument } from '../plan/load';
import type { Plan } from '../plan/schema';
import type { PlanProblem } from '../plan/validate';
import { CliError, EXIT } from '../client/errors';

export interface LoadedPlan {
  /**
   * The plan as written (after `--target-url`, comment `x-` keys removed, defaults not applied):
   * what the workflow receives.
   */
  raw: unknown;
  /** `timeScale` of a `{ plan, timeScale }` file, when it has one (already within bounds). */
  timeScale?: number;
  /** The validated plan with defaults. */
  plan: Plan;
  warnings: PlanProblem[];
}

function originOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * `--target-url`: points the plan at another instance of the service. `target.baseUrl` becomes
 * the URL; the http traffic switch, the env-file health URL and the exposition metrics URL move
 * with it when they were on the old base URL's host (a separate Prometheus stays where it is).
 */
export function retarget(doc: unknown, targetUrl: string): unknown {
  let next: URL;
  try {
    next = new URL(targetUrl);
  } catch {
    throw new CliError(`--target-url: not a URL: ${JSON.stringify(targetUrl)}`, EXIT.invalid);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    throw new CliError(`--target-url: must be an http(s) URL (got ${targetUrl})`, EXIT.invalid);
  const copy = structuredClone(doc) as { target?: Record<string, unknown> } | null;
  const target = copy?.target;
  if (!target || typeof target !== 'object') return copy;
  const oldOrigin = originOf(target.baseUrl);
  const move = (url: unknown): unknown => {
    const origin = originOf(url);
    if (!origin || (oldOrigin && origin !== oldOrigin)) return url;
    const u = new URL(url as string);
    return `${next.origin}${u.pathname === '/' && !(url as string).endsWith('/') ? '' : u.pathname}${u.search}`;
  };
  target.baseUrl = targetUrl.replace(/\/+$/, '');
  const traffic = target.traffic as Record<string, unknown> | undefined;
  if (traffic?.type === 'http') traffic.url = move(traffic.url);
  if (traffic?.type === 'env-file') traffic.healthUrl = move(traffic.healthUrl);
  const metrics = target.metrics as Record<string, unknown> | undefined;
  if (metrics?.type === 'exposition') metrics.url = move(metrics.url);
  return copy;
}

/** Reads, retargets and validates a plan; every problem is listed with its path (exit 2). */
export async function loadPlanForCli(file: string, opts: { targetUrl?: string } = {}): Promise<LoadedPlan> {
  let doc: unknown;
  try {
    doc = await readPlanFile(file);
  } catch (err) {
    if (err instanceof PlanFileError) throw new CliError(err.headline, EXIT.invalid, err.details);
    throw new CliError(`${file}: cannot read it (${(err as Error).message})`, EXIT.invalid);
  }
  const targetUrl = opts.targetUrl;
  const v = validatePlanDocument(doc, targetUrl ? (plan) => retarget(plan, targetUrl) : undefined);
  if (!v.ok) {
    const n = v.problems.length;
    throw new CliError(
      `plan ${file} is invalid (${n} problem${n === 1 ? '' : 's'}); nothing was started:`,
      EXIT.invalid,
      v.problems.map((p) => `  ${p.path}: ${p.message}`),
    );
  }
  return { raw: v.input, timeScale: v.timeScale, plan: v.plan, warnings: v.warnings };
}
