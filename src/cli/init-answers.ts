/**
 * `rollout init`'s answers: what the operator said (flags or prompts), which of them a plan still
 * needs, and the small notations the flags use (`read=be_read,write=be_write`, an argv as JSON or
 * words). Pure: the command (init.ts) asks and prints, init-plan.ts builds the plan.
 */

import { INIT_ROUTERS, type VerbOptions } from '../client/options';

type Router = (typeof INIT_ROUTERS)[number];

/**
 * Every answer, as a flag or a prompt gives it (options.ts checks each). Notations: `backend` and
 * `upstream` one name for every group or `group=name,…`; `setCommand`, `readCommand` an argv as a
 * JSON array or words; `impl` `[label=L,]domain=D,legacy=L`; `group` `name=METHOD /path,…`;
 * `param` `name=value` (fixed values of GET endpoints' `{name}` parameters).
 */
export type InitAnswers = Omit<VerbOptions<'init'>, 'out' | 'force' | 'yes' | 'interactive' | 'verify'>;

/** An answer that cannot become a plan, named by its flag (the plan loader names plan paths). */
export interface AnswerProblem {
  path: string;
  message: string;
}

/** Presets that tell implementations apart by a router's names: the plan must give them. */
const ROUTER_PRESETS = ['haproxy', 'envoy', 'traefik'];

/** `--backend`, `--upstream`: `--backend be_api` or `--backend read=be_read,write=be_write`. */
export function perGroup(value: string, groups: string[]): Record<string, string> | AnswerProblem {
  if (!value.includes('=')) return Object.fromEntries(groups.map((g) => [g, value.trim()]));
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const [group, name, ...rest] = part.split('=').map((s) => s.trim());
    if (!group || !name || rest.length)
      return { path: '', message: `"${part}" is not group=name (give one name, or group=name,group=name)` };
    out[group] = name;
  }
  const missing = groups.filter((g) => !(g in out));
  if (missing.length)
    return {
      path: '',
      message: `names no value for group ${missing.join(', ')} (groups: ${groups.join(', ')})`,
    };
  return out;
}

/** An argv: a JSON array (`["/opt/set", "{group}", "{percent}"]`) or words split on spaces. */
export function parseArgv(value: string): string[] | AnswerProblem {
  const text = value.trim();
  if (!text.startsWith('[')) return text.split(/\s+/).filter(Boolean);
  try {
    const list: unknown = JSON.parse(text);
    if (Array.isArray(list) && list.every((w) => typeof w === 'string')) return list as string[];
  } catch {
    /* reported below */
  }
  return {
    path: '',
    message: 'must be a JSON array of strings, like ["/opt/rollout/set", "{group}", "{percent}"], or words',
  };
}

/** `--impl`: `domain=D,legacy=L` with an optional `label=L` (default: the preset's label). */
export function parseImpl(value: string): { label?: string; domain: string; legacy: string } | AnswerProblem {
  const fields: Record<string, string> = {};
  for (const part of value.split(',')) {
    const [k, v, ...rest] = part.split('=').map((s) => s.trim());
    if (!['label', 'domain', 'legacy'].includes(k) || !v || rest.length)
      return {
        path: '',
        message: `"${part}" is not label=, domain= or legacy= (e.g. label=job,domain=api-v2,legacy=api)`,
      };
    fields[k] = v;
  }
  if (!fields.domain || !fields.legacy)
    return { path: '', message: 'must give domain= and legacy= (e.g. domain=api-v2,legacy=api)' };
  return { ...(fields.label ? { label: fields.label } : {}), domain: fields.domain, legacy: fields.legacy };
}

/** `--param id=42`: fixed values for `{id}` in GET endpoints. */
export function parseParams(values: string[]): Record<string, string> | AnswerProblem {
  const out: Record<string, string> = {};
  for (const v of values) {
    const at = v.indexOf('=');
    if (at < 1) return { path: '', message: `"${v}" is not name=value (e.g. --param camera_id=cam-1)` };
    out[v.slice(0, at).trim()] = v.slice(at + 1).trim();
  }
  return out;
}

export const isProblem = (v: unknown): v is AnswerProblem =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && 'message' in v && 'path' in v;

/** Answers a prompt offers with a default (an empty answer takes it); flags may leave them out. */
export const OFFERED: Partial<Record<keyof InitAnswers, string>> = {
  metrics: 'exposition',
  preset: 'default',
};

/**
 * The answers a plan cannot do without, in the order they are asked, given those already known
 * (the router decides its own). With `offer`, also those of OFFERED not given yet, where a prompt
 * asks them. Values with a sensible default (an admin URL on the target, the `/metrics` beside
 * it) are not asked: flags set them.
 */
export function neededAnswers(a: InitAnswers, offer = false): (keyof InitAnswers)[] {
  const byRouter: Record<Router, (keyof InitAnswers)[]> = {
    http: [],
    'env-file': ['envFile', 'restartCommand'],
    haproxy: ['haproxySocket', 'backend', 'legacyServer', 'domainServer'],
    nginx: ['nginxFile', 'legacyAddress', 'domainAddress'],
    command: ['setCommand', 'readCommand'],
  };
  const needed: (keyof InitAnswers)[] = [
    'targetId',
    'targetUrl',
    'router',
    ...(a.router ? byRouter[a.router] : []),
    ...(offer ? (['metrics'] as const) : []),
    ...(a.metrics === 'prometheus' ? (['prometheusUrl'] as const) : []),
    ...(offer ? (['preset'] as const) : []),
    // A router preset names no implementation; a haproxy router's servers are the haproxy preset's.
    ...(a.preset && ROUTER_PRESETS.includes(a.preset) && !(a.preset === 'haproxy' && a.router === 'haproxy')
      ? (['impl'] as const)
      : []),
    ...(a.group.length === 0 ? (['endpoint'] as const) : []),
  ];
  return needed.filter((k) => {
    const v = a[k];
    return Array.isArray(v) ? v.length === 0 : v === undefined || v === '';
  });
}

/** `targetUrl` → `--target-url`: answers are named as the operator types them. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
