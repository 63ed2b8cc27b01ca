/**
 * An always-valid sequential test for a bad-outcome rate (5xx answers, non-2xx answers) of the
 * domain implementation, looked at after every check of a window. Pure; runs inside workflow code.
 *
 * The test is a CUSUM of binomial likelihood ratios with a threshold from a union bound:
 * - For one alternative rate p1 and a null rate p0 < p1, the likelihood ratio of the requests seen
 *   since a start point is a nonnegative supermartingale whenever the true rate is at most p0, so
 *   by Ville's inequality it ever reaches e^h with probability at most e^-h, however many looks.
 * - A fault may begin at any moment: every check is a start point (the CUSUM, S = max(0, S + ΔL),
 *   is the largest log ratio over all start points), and a few alternatives cover slight and
 *   gross faults. With K start points and m alternatives, a rollback needs S ≥ ln(K·m/α), so the
 *   chance of any rollback of a healthy step is at most α, while a fault that begins mid-window is
 *   judged only on the requests since it began.
 * - Looks past the planned ones (a hold that keeps watching, a `continuous` window) get a
 *   threshold that grows with ln k², which keeps the sum of the chances at α (see `threshold`).
 */

/** Bad outcomes and requests of one implementation in one check. */
export interface Counts {
  n: number;
  bad: number;
}

/** Where the CUSUM of one alternative stands; plain data (workflow state, heartbeat details). */
export interface AlternativeState {
  /** Alternative rate p1. */
  p1: number;
  /** CUSUM of the log likelihood ratio, ≥ 0. */
  s: number;
  /** Domain and legacy requests since the CUSUM last started from 0: the evidence behind `s`. */
  domain: Counts;
  legacy: Counts;
  /** Check index at which the current run began. */
  since: number;
  /**
   * Only when the settings name bursts (`burstChecks`): the lowest `s` so far and the look it was
   * reached at (where the current climb began; for the CUSUM, its last reset), and `s` once the
   * climb was `burstChecks` checks long.
   */
  low?: number;
  climb?: number;
  early?: number;
}

export interface SequentialState {
  /** Checks taken so far (the number of start points used). */
  looks: number;
  alternatives: AlternativeState[];
}

export interface SequentialSettings {
  /** The null hypothesis: the rate the test must see the domain clearly above (the rollback bar, or legacy's when worse). */
  p0: number;
  /** The rollback bar: alternatives are multiples of it. */
  rollback: number;
  /** Chance of a false alarm over the whole window, all looks. */
  alpha: number;
  /** Looks the window will take (with extensions); `null` for a continuous window. */
  plannedLooks: number | null;
  /** For a continuous window: looks covered at the base threshold (e.g. a day of checks). */
  continuousLooks: number;
  /**
   * This check's null, when it is worse than `p0`: legacy's rate in the same check (a burst both
   * implementations see, a downstream hiccup, is not the canary's doing). Raising the null only
   * lowers the likelihood ratio, so the false-rollback bound stands.
   */
  p0Check?: number;
  /**
   * What one request of this check weighs against an independent one (≥ 1; `dispersion.ts`): a
   * service whose rate wanders in bursts gives each check's requests less weight, so a burst of the
   * size it has shown before is not taken for a fault.
   */
  dispersion?: number;
  /**
   * One start point, the window's first check, instead of every check: the likelihood ratio is
   * then never reset, and Ville's inequality bounds it at every look of any number of looks with
   * ln(m/α), no start points and no planned looks to pay for. Fast for what is there from the
   * start (a broken build, a steady canary); a fault that begins mid-window is the CUSUM's.
   */
  fromStart?: boolean;
  /**
   * The plan's longest burst in checks (`defaults.burstLength`): an alarm needs a run longer than
   * this whose likelihood ratio still grew after its first `burstChecks` checks, so a burst that
   * ended (however intense) does not roll back, while a fault that goes on does, that much later.
   * Only ever fewer alarms: the false-rollback bound stands.
   */
  burstChecks?: number;
}


/**
 * The alternatives tried: twice and six times the rollback bar (capped below 1). Two are enough:
 * one catches a rate just past the bar within minutes, the other a gross fault within a check.
 */
export function alternativeRates(rollback: number): number[] {
  const rates = [2 * rollback, 6 * rollback].map((p) => Math.min(0.9, Number(p.toPrecision(12))));
  return [...new Set(rates)].filter((p) => p > rollback);
}

/** A test of `rollback`'s alternatives (`alternativeRates`), or of the rates given. */
export function startSequential(rollback: number, rates: number[] = alternativeRates(rollback)): SequentialState {
  return {
    looks: 0,
    alternatives: rates.map((p1) => ({
      p1,
      s: 0,
      domain: { n: 0, bad: 0 },
      legacy: { n: 0, bad: 0 },
      since: 0,
    })),
  };
}

/** Log likelihood ratio of `bad` of `n` outcomes at rate p1 against rate p0. */
export function logLikelihoodRatio(c: Counts, p0: number, p1: number): number {
  if (c.n <= 0) return 0;
  return c.bad * Math.log(p1 / p0) + (c.n - c.bad) * Math.log((1 - p1) / (1 - p0));
}

/**
 * The threshold that `s` must reach at look `look` (1-based). Nondecreasing in `look`, so an
 * alarm at look n means some start k ≤ n whose own run passed the threshold of k: the chance of
 * that is at most Σ_k e^-h(k) ≤ α. Half of α goes to the K0 looks the window plans (a day of checks
 * for a continuous one), spread evenly; the other half to any looks past them (a hold keeps
 * watching, a continuous window goes on), as K0/(2k²), so the budget holds however long it runs.
 */
export function threshold(look: number, m: number, s: SequentialSettings): number {
  if (s.fromStart) return Math.log(m / s.alpha);
  const k0 = Math.max(1, s.plannedLooks ?? s.continuousLooks);
  const base = Math.log((2 * k0 * m) / s.alpha);
  return look <= k0 ? base : base + 2 * Math.log(look / k0);
}

export interface SequentialStep {
  state: SequentialState;
  /** The alternative whose run crossed its threshold, when one did. */
  alarm: AlternativeState | null;
  /** The largest `s / threshold` among the alternatives (1 = alarm): how close it came. */
  progress: number;
  /** The alternative with the largest `s / threshold`. */
  leading: AlternativeState;
  threshold: number;
}

/** Adds one check's counts (domain, and legacy for the record) and says whether to alarm. */
export function stepSequential(
  state: SequentialState,
  domain: Counts,
  legacy: Counts,
  settings: SequentialSettings,
): SequentialStep {
  const looks = state.looks + 1;
  const burst = settings.burstChecks ?? 0;
  const h = threshold(looks, state.alternatives.length, settings);
  // Below every alternative, or a likelihood ratio would favour an alternative for being better.
  const p0 = Math.min(settings.p0, Math.min(...state.alternatives.map((a) => a.p1)) * 0.99);
  const alternatives = state.alternatives.map((a): AlternativeState => {
    // A check's null may rise with legacy's (never above the alternative it is weighed against).
    const null0 = Math.min(Math.max(p0, settings.p0Check ?? 0), a.p1 * 0.99);
    const s = a.s + logLikelihoodRatio(domain, null0, a.p1) / Math.max(1, settings.dispersion ?? 1);
    // A CUSUM starts again from 0; the test from the window's start never does.
    const reset = s <= 0 && !settings.fromStart;
    const next = reset ? { ...a, s: 0, domain: { n: 0, bad: 0 }, legacy: { n: 0, bad: 0 }, since: looks } : a;
    const tracked = burst > 0 ? climbOf(next, reset ? 0 : s, looks, burst) : next;
    if (reset) return tracked;
    return {
      ...tracked,
      s,
      domain: { n: a.domain.n + domain.n, bad: a.domain.bad + domain.bad },
      legacy: { n: a.legacy.n + legacy.n, bad: a.legacy.bad + legacy.bad },
    };
  });
  const leading = alternatives.reduce((x, y) => (y.s > x.s ? y : x));
  const lasting = (a: AlternativeState) =>
    burst === 0 || (a.early !== undefined && looks - (a.climb ?? 0) > burst && a.s > a.early);
  const alarm = alternatives.filter((a) => a.s >= h && lasting(a)).reduce<AlternativeState | null>((x, y) => (x && x.s >= y.s ? x : y), null);
  return { state: { looks, alternatives }, alarm, progress: Math.max(0, leading.s) / h, leading, threshold: h };
}

/**
 * Where the climb of `s` began and what it stood at `burst` checks into it. A climb begins at the
 * lowest `s` so far (a CUSUM's reset to 0; for the test from the window's start, its lowest point),
 * so a burst mid-window is judged from its own start, as a fault would be.
 */
function climbOf(a: AlternativeState, s: number, looks: number, burst: number): AlternativeState {
  const low = a.low ?? 0;
  const climb = a.climb ?? 0;
  if (s <= low) {
    const { early: _, ...rest } = a;
    return { ...rest, low: s, climb: looks };
  }
  return looks - climb === burst ? { ...a, low, climb, early: s } : { ...a, low, climb };
}
