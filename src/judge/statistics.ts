/** Interval estimates and quantiles used by `evaluate()`. Pure; runs inside workflow code. */

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval of a proportion: honest at small n and near 0 or 1, where the
 * normal approximation claims certainty it does not have.
 */
export function wilson(successes: number, n: number, z = 1.96): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Quantile from a cumulative histogram (`[upperBound, count]` ascending, +Inf excluded) with
 * linear interpolation inside the bucket, as PromQL's histogram_quantile does. Observations
 * above the last bound report that bound. `null` when there are no observations.
 */
export function histogramQuantile(q: number, buckets: Array<[number, number]>, total: number): number | null {
  return valueAtRank(q * total, buckets, total);
}

/** The value of the observation of (fractional) `rank`, 0..total, interpolated as above. */
export function valueAtRank(rank: number, buckets: Array<[number, number]>, total: number): number | null {
  if (total <= 0) return null;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      const inBucket = count - prevCount;
      if (inBucket <= 0) return bound;
      return prevBound + (bound - prevBound) * ((rank - prevCount) / inBucket);
    }
    prevBound = bound;
    prevCount = count;
  }
  return buckets.length ? buckets[buckets.length - 1][0] : null;
}

/**
 * Distribution-free confidence interval of the `q` quantile from `total` observations: the
 * number of observations below the true quantile is Binomial(total, q), so the interval runs
 * between the observations of rank `total·q ∓ z·√(total·q·(1−q))`. At small `total` the upper
 * rank passes the largest observation: the high end is then the top of the highest bucket seen,
 * and the low end sinks towards the bulk of the distribution, so a few slow requests prove little.
 */
export function quantileInterval(
  q: number,
  buckets: Array<[number, number]>,
  total: number,
  z = 1.96,
): Interval | null {
  if (total <= 0) return null;
  const spread = z * Math.sqrt(total * q * (1 - q));
  const low = valueAtRank(Math.max(0, total * q - spread), buckets, total);
  const high = valueAtRank(Math.min(total, total * q + spread), buckets, total);
  return low === null || high === null ? null : { low, high };
}

/** Adds two cumulative histograms bucket by bucket (bounds are matched by value). */
export function addBuckets(a: Array<[number, number]>, b: Array<[number, number]>): Array<[number, number]> {
  // The usual case, one layout on both sides, without the map (this runs at every check of a simulation).
  if (a.length === b.length && a.every(([le], i) => le === b[i][0]))
    return a.map(([le, c], i) => [le, c + b[i][1]]);
  const sums = new Map<number, number>();
  for (const [le, c] of a) sums.set(le, (sums.get(le) ?? 0) + c);
  for (const [le, c] of b) sums.set(le, (sums.get(le) ?? 0) + c);
  return [...sums].sort((x, y) => x[0] - y[0]);
}

/**
 * The bounds of the bucket holding the observation of (1-based) `rank`: an observation inside a
 * bucket lies anywhere between its edges, and nothing more is known. Ranks above the last finite
 * bound lie in the +Inf bucket (`high` is Infinity); rank ≤ 0 is below every observation.
 */
export function bucketOfRank(rank: number, buckets: Array<[number, number]>): Interval {
  if (rank <= 0) return { low: 0, high: 0 };
  let prev = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) return { low: prev, high: bound };
    prev = bound;
  }
  return { low: prev, high: Infinity };
}

/**
 * Distribution-free confidence interval of the `q` quantile that claims no more than the
 * buckets know: the ranks `total·q ∓ z·√(total·q·(1−q))` (the count below the true quantile is
 * Binomial(total, q)) are widened to the whole buckets holding them: the low end is the lower edge
 * of the bucket of the low rank, the high end the upper edge of the bucket of the high rank
 * (Infinity when that rank is past the last finite bound or past the last observation).
 */
export function bucketQuantileInterval(
  q: number,
  buckets: Array<[number, number]>,
  total: number,
  z: number,
): Interval | null {
  if (total <= 0) return null;
  const spread = z * Math.sqrt(total * q * (1 - q));
  const lowRank = Math.floor(total * q - spread);
  const highRank = Math.ceil(total * q + spread);
  const low = lowRank < 1 ? 0 : bucketOfRank(lowRank, buckets).low;
  const high = highRank > total ? Infinity : bucketOfRank(highRank, buckets).high;
  return { low, high };
}

/**
 * Inverse of the standard normal distribution function (Acklam's rational approximation,
 * relative error < 1.2e-9), for z-scores from error budgets.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p <= 0 ? -Infinity : Infinity;
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** z of a one-sided test at level `alpha`, spread over `looks` looks by a union bound. */
export function zForBudget(alpha: number, looks: number): number {
  return normalQuantile(1 - alpha / Math.max(1, looks));
}
