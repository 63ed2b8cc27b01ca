/**
 * What a plan needs of the worker's policy (`ROLLOUT_ALLOW_*`) that this environment does not
 * allow, as the variables to set: said once a plan is written (`rollout init`), so a new user sets
 * them where the worker runs (`npm start`'s environment) and in the shell (`verify`) together.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Plan } from '../plan/schema';
import { commandWords, POLICY_DEFAULTS, type PolicyProblem } from '../providers/policy';

type Variable =
  'ROLLOUT_ALLOW_HOSTS' | 'ROLLOUT_ALLOW_PATHS' | 'ROLLOUT_ALLOW_COMMANDS' | 'ROLLOUT_ALLOW_TOKEN_ENV';

/** The value at a plan path like `target.traffic.groups.read.legacy` (`phases[1].command.run`). */
function at(plan: unknown, where: string): unknown {
  return where
    .split(/\.|\[(\d+)\]/)
    .filter((k) => k !== undefined && k !== '')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      plan,
    );
}

/** A program as the policy places it: its directory, found on PATH when given bare. */
function programDir(program: string, env: NodeJS.ProcessEnv): string {
  if (program.includes('/')) return path.dirname(path.resolve(program));
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      accessSync(path.join(dir, program), constants.X_OK);
      return dir;
    } catch {
      // not here
    }
  }
  return `<the directory of ${program}>`;
}

/** `host:port` of a URL or `host:port` value. */
function hostOf(value: string): string {
  const u = new URL(value.includes('://') ? value : `http://${value}`);
  return u.port ? `${u.hostname}:${u.port}` : u.hostname;
}

/**
 * The `ROLLOUT_ALLOW_*` assignments that would admit every refused use in `problems`, each
 * keeping what the variable allows now (its value, or the default).
 */
export function policyNeeds(plan: Plan, problems: PolicyProblem[], env: NodeJS.ProcessEnv): string[] {
  const add = new Map<Variable, Set<string>>();
  const need = (v: Variable, value: string) => add.set(v, (add.get(v) ?? new Set()).add(value));
  for (const p of problems) {
    const value = at(plan, p.path);
    const text = Array.isArray(value) ? String(value[0]) : String(value ?? '');
    if (/tokenEnv$/.test(p.path)) need('ROLLOUT_ALLOW_TOKEN_ENV', text);
    else if (Array.isArray(value) || /Command$|\.run$/.test(p.path)) {
      const words = Array.isArray(value) ? { words: value.map(String) } : commandWords(text);
      if ('words' in words && words.words[0]) need('ROLLOUT_ALLOW_COMMANDS', programDir(words.words[0], env));
    } else if (/not in an allowed directory|path/.test(p.message) && !/^https?:|^tcp:/.test(text)) {
      const file = text.startsWith('unix:') ? text.slice('unix:'.length) : text;
      need('ROLLOUT_ALLOW_PATHS', path.dirname(path.resolve(file)));
    } else need('ROLLOUT_ALLOW_HOSTS', hostOf(text.startsWith('tcp:') ? text.slice('tcp:'.length) : text));
  }
  return [...add].map(([v, values]) => {
    const now = (env[v] ?? POLICY_DEFAULTS[v]).split(',').filter(Boolean);
    return `${v}=${[...new Set([...now, ...values])].join(',')}`;
  });
}
