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
  const sums = new Map<number, number>();
  for (const [le, c] of a) sums.set(le, (sums.get(le) ?? 0) + c);
  for (const [le, c] of b) sums.set(le, (sums.get(le) ?? 0) + c);
  return [...sums].sort((x, y) => x[0] - y[0]);
}
