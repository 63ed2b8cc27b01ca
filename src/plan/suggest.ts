/**
 * "Did you mean" for plan keys and names. Pure (the workflow bundle imports it through
 * validate.ts).
 */

/** Case, `-`, `_` and spaces are not what people mistype on purpose: `check_interval` is `checkInterval`. */
function normal(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** Optimal string alignment distance (Levenshtein plus adjacent swaps), stopping past `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

/** The candidate `word` most likely meant, if one is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined;
  const w = normal(word);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const n = normal(c);
    // One edit per three letters: `approvl` → `approval`, `aprovers` → `approvers`, not `url` → `run`.
    const max = Math.max(1, Math.floor(n.length / 3));
    const d = w === n ? 0 : distance(w, n, max);
    if (d <= max && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** A value as it appears in a message: quoted and cut short. */
export function shown(value: string, max = 60): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
