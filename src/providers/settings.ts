import { z } from 'zod';
import { parseDuration } from '../plan/duration';
import { permanent } from './errors';

/** The environment a provider reads secrets from (the worker's `process.env` in production). */
export type Env = Record<string, string | undefined>;

/** Milliseconds of a duration from a plan; a bad one is a configuration error, never retried. */
export function durationMs(text: string | undefined, what: string, fallback?: string): number {
  const source = text ?? fallback;
  const ms = source === undefined ? undefined : parseDuration(source);
  if (ms === undefined || !(ms > 0)) {
    throw permanent(`${what}: ${JSON.stringify(source)} is not a duration like 10s, 30m or 1h`);
  }
  return ms;
}

const secret = z.string().trim().min(1, 'is empty');

/**
 * Reads a secret named by a plan (`tokenEnv`). Plans carry the variable's name, never the value,
 * so the secret stays out of workflow history; an unset variable is a deployment mistake that no
 * retry fixes, hence permanent, and the message names the variable to set.
 */
export function requireEnv(env: Env, name: string, purpose: string): string {
  const parsed = secret.safeParse(env[name]);
  if (!parsed.success) {
    const state = env[name] === undefined ? 'is not set' : 'is empty';
    throw permanent(
      `environment variable ${name} ${state}: it is needed for ${purpose}; set it where this runs (the worker's environment for rollouts, your shell for \`npx rollout verify\` and \`start\`)`,
      'RolloutMissingSecret',
    );
  }
  return parsed.data;
}
