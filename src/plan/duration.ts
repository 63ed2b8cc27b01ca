/**
 * Durations as operators write them in plans: `500ms`, `10s`, `30m`, `1h`, `1h30m`, `2d`.
 * Kept free of Node APIs: the workflow bundle imports it.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
/** Longer text is never a duration a person meant (and 400 digits parse to Infinity). */
const MAX_TEXT = 32;

/** Returns milliseconds, or `undefined` when the text is not a finite duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '' || s.length > MAX_TEXT) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return Number.isFinite(total) ? total : undefined;
}

/**
 * A plan's duration under `--time-scale` (at least 1 ms): what the workflow waits, and what the CLI
 * warns about before starting it.
 */
export function scaledMs(duration: string, timeScale: number): number {
  return Math.max(1, Math.round((parseDuration(duration) ?? 0) / timeScale));
}

/** `5400000` → `1h30m`; used in status output and error messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}

/** A limit in the largest unit that states it exactly: `2592000000` → `30d`, `600000` → `10m`. */
export function formatLimit(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = ms / UNIT_MS[unit];
    if (n >= 1 && Number.isInteger(n)) return `${n}${unit}`;
  }
  return `${ms}ms`;
}
