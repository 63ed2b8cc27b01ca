/**
 * Where the rollout page answers, for `status` to print: `ROLLOUT_UI_URL` when set, else the
 * default local page (`npm start`, `npx rollout ui`) if it is up. A quick probe, run while the CLI
 * talks to Temporal, so it costs nothing when nothing listens.
 */
export async function pageAddress(env: NodeJS.ProcessEnv, timeoutMs = 400): Promise<string | null> {
  const url = (env.ROLLOUT_UI_URL || `http://127.0.0.1:${env.ROLLOUT_UI_PORT || 8400}`).replace(/\/+$/, '');
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { service?: string };
    return res.ok && body.service === 'rollout-page' ? url : null;
  } catch {
    return null;
  }
}

/** A rollout's page. */
export const rolloutPage = (base: string, id: string) => `${base}/#/r/${encodeURIComponent(id)}`;
