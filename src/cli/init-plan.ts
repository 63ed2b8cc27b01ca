/**
 * `rollout init`: answers → a commented plan, checked by the plan loader before anything is
 * written. Pure (no files, no prompts): init.ts asks and writes.
 */
import { Document, isMap, isScalar, visit, type YAMLMap } from 'yaml';
import { PRESETS, type MetricsPreset } from '../plan/metrics-conventions';
import { parsePlanText, validatePlanDocument } from '../plan/load';
import type { PlanProblem } from '../plan/validate';
import {
  isProblem,
  parseArgv,
  parseImpl,
  parseParams,
  perGroup,
  type AnswerProblem,
  type InitAnswers,
} from './init-answers';

/** The seed plan's stages (plans/phase2-3.yaml): reads 10→25→50→100, writes 5→10→25→50→100. */
export const READ_STEPS = [
  { percent: 10, observe: '30m' },
  { percent: 25, observe: '1h' },
  { percent: 50, observe: '2h' },
  { percent: 100, observe: 'continuous' },
] as const;
export const WRITE_STEPS = [
  { percent: 5, observe: '1h' },
  { percent: 10, observe: '2h' },
  { percent: 25, observe: '4h' },
  { percent: 50, observe: '8h' },
  { percent: 100, observe: 'continuous' },
] as const;

const READ_METHODS = ['GET', 'HEAD'];
const isRead = (endpoint: string) =>
  READ_METHODS.includes(endpoint.trim().split(/\s+/)[0]?.toUpperCase() ?? '');

export type InitPlan =
  { ok: true; text: string; plan: unknown; warnings: PlanProblem[] } | { ok: false; problems: PlanProblem[] };

interface Group {
  name: string;
  endpoints: string[];
  writes: boolean;
}

/** `--group name=GET /a,GET /b` first, then the other endpoints by method: `read` and `write`. */
export function groupEndpoints(endpoints: string[], groups: string[]): Group[] | AnswerProblem {
  const out: Group[] = [];
  for (const g of groups) {
    const at = g.indexOf('=');
    const list = g
      .slice(at + 1)
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (at < 1 || !list.length)
      return {
        path: '--group',
        message: `"${g}" is not name=METHOD /path[,METHOD /path] (e.g. reports=GET /api/v1/reports)`,
      };
    out.push({ name: g.slice(0, at).trim(), endpoints: list, writes: !list.every(isRead) });
  }
  const grouped = new Set(out.flatMap((g) => g.endpoints));
  const rest = endpoints.map((e) => e.trim()).filter((e) => e && !grouped.has(e));
  const reads = rest.filter(isRead);
  const writes = rest.filter((e) => !isRead(e));
  if (reads.length) out.push({ name: 'read', endpoints: reads, writes: false });
  if (writes.length) out.push({ name: 'write', endpoints: writes, writes: true });
  return out;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** `/run/haproxy/admin.sock` → `unix:…`, `127.0.0.1:9999` → `tcp:…`; already prefixed stays. */
export function runtimeApi(socket: string): string {
  if (/^(unix|tcp):/.test(socket)) return socket;
  return socket.startsWith('/') ? `unix:${socket}` : `tcp:${socket}`;
}

/** The target's traffic section for the chosen router; problems name the flag. */
function traffic(a: InitAnswers, base: string, groups: string[]): Record<string, unknown> | AnswerProblem {
  const named = (flag: string, v: Record<string, string> | string[] | AnswerProblem) =>
    isProblem(v) ? { ...v, path: flag } : v;
  switch (a.router) {
    case 'http':
      return {
        type: 'http',
        url: a.adminUrl ?? `${base}/admin/rollout`,
        tokenEnv: a.tokenEnv ?? 'ADMIN_TOKEN',
      };
    case 'env-file':
      return {
        type: 'env-file',
        path: a.envFile,
        restartCommand: a.restartCommand,
        healthUrl: a.healthUrl ?? `${base}/health`,
        // One variable per group: on one shared variable, moving reads would move writes too.
        ...(groups.length > 1
          ? {
              variables: Object.fromEntries(
                groups.map((g) => [g, `ROLLOUT_PERCENT_${g.toUpperCase().replace(/-/g, '_')}`]),
              ),
            }
          : {}),
      };
    case 'haproxy': {
      const backends = named('--backend', perGroup(a.backend ?? '', groups));
      if (isProblem(backends)) return backends;
      const servers = { legacy: a.legacyServer, domain: a.domainServer };
      return {
        type: 'haproxy',
        runtimeApi: runtimeApi(a.haproxySocket ?? ''),
        groups: Object.fromEntries(
          groups.map((g) => [g, { backend: (backends as Record<string, string>)[g], ...servers }]),
        ),
      };
    }
    case 'nginx': {
      const id = (a.targetId ?? 'service').replace(/[^A-Za-z0-9_]/g, '_');
      const upstreams = a.upstream
        ? named('--upstream', perGroup(a.upstream, groups))
        : Object.fromEntries(groups.map((g) => [g, `${id}_${g.replace(/-/g, '_')}`]));
      if (isProblem(upstreams)) return upstreams;
      // An nginx of the operator's own (-p/-c) is tested and reloaded as itself, not the system's.
      const nginx = [
        a.nginxBin ?? 'nginx',
        ...(a.nginxPrefix ? ['-p', a.nginxPrefix] : []),
        ...(a.nginxConf ? ['-c', a.nginxConf] : []),
      ];
      return {
        type: 'nginx',
        file: a.nginxFile,
        ...(nginx.length > 1 || a.nginxBin ? { testCommand: [...nginx, '-t'], reloadCommand: [...nginx, '-s', 'reload'] } : {}),
        statusListen: a.statusListen ?? '127.0.0.1:8099',
        groups: Object.fromEntries(
          groups.map((g) => [
            g,
            {
              upstream: (upstreams as Record<string, string>)[g],
              legacy: a.legacyAddress,
              domain: a.domainAddress,
            },
          ]),
        ),
      };
    }
    case 'command': {
      const set = named('--set-command', parseArgv(a.setCommand ?? ''));
      if (isProblem(set)) return set;
      const read = named('--read-command', parseArgv(a.readCommand ?? ''));
      return isProblem(read) ? read : { type: 'command', set, read };
    }
    default:
      return { path: '--router', message: 'is required (http, env-file, haproxy, nginx or command)' };
  }
}

/** The metrics section; a haproxy router with the haproxy preset reads its servers per backend. */
function metrics(
  a: InitAnswers,
  base: string,
  trafficConfig: Record<string, unknown>,
): Record<string, unknown> | AnswerProblem {
  const source =
    a.metrics === 'prometheus'
      ? { type: 'prometheus', url: a.prometheusUrl, ...(a.selector ? { selector: a.selector } : {}) }
      : { type: 'exposition', url: a.metricsUrl ?? `${base}/metrics` };
  const preset = a.preset && a.preset !== 'default' ? { preset: a.preset } : {};
  if (a.impl) {
    const impl = parseImpl(a.impl);
    return isProblem(impl) ? { ...impl, path: '--impl' } : { ...source, ...preset, impl };
  }
  if (a.preset === 'haproxy' && trafficConfig.type === 'haproxy') {
    const groups = trafficConfig.groups as Record<
      string,
      { backend: string; legacy: string; domain: string }
    >;
    return {
      ...source,
      ...preset,
      groups: Object.fromEntries(
        Object.entries(groups).map(([g, s]) => [
          g,
          { impl: { domain: s.domain, legacy: s.legacy }, match: { proxy: s.backend } },
        ]),
      ),
    };
  }
  return { ...source, ...preset };
}

/** Read probes for GET endpoints with `{parameters}`, from `--param` values (the check cannot guess them). */
function readProbes(groups: Group[], params: Record<string, string>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const e of groups.flatMap((g) => g.endpoints)) {
    const names = [...e.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
    if (!e.startsWith('GET ') || !names.length || !names.every((n) => n in params)) continue;
    out.push({ request: e, params: Object.fromEntries(names.map((n) => [n, params[n]])) });
  }
  return out;
}

/** The plan as data, before comments: what the loader validates. */
export function planFromAnswers(
  a: InitAnswers,
): { plan: Record<string, unknown>; groups: Group[] } | AnswerProblem {
  const base = trimSlash(a.targetUrl ?? '');
  const groups = groupEndpoints(a.endpoint, a.group);
  if (isProblem(groups)) return groups;
  if (!groups.length)
    return { path: '--endpoint', message: 'give at least one endpoint, like --endpoint "GET /api/v1/items"' };
  const t = traffic(
    a,
    base,
    groups.map((g) => g.name),
  );
  if (isProblem(t)) return t;
  const m = metrics(a, base, t);
  if (isProblem(m)) return m;
  const params = parseParams(a.param);
  if (isProblem(params)) return { ...params, path: '--param' };
  const reads = readProbes(groups, params);
  const noHistogram = PRESETS[(a.preset ?? 'default') as MetricsPreset]?.histogram === null;
  const phases = groups.map((g) => {
    // Writes need a write lifecycle in target.probes.writes for the functional check: off until one is added.
    const off = { ...(g.writes ? { functional: 'off' } : {}), ...(noHistogram ? { p95: 'off' } : {}) };
    return {
      name: g.name,
      group: g.name,
      endpoints: g.endpoints,
      ...(g.writes ? { approval: 'before-start' } : {}),
      ...(Object.keys(off).length ? { checks: off } : {}),
      steps: (g.writes ? WRITE_STEPS : READ_STEPS).map((s) => ({ ...s })),
    };
  });
  const target = {
    id: a.targetId,
    baseUrl: base,
    traffic: t,
    metrics: m,
    ...(reads.length ? { probes: { reads } } : {}),
  };
  return { plan: { name: a.name ?? `${a.targetId}-rollout`, target, phases }, groups };
}

/** Sets the comment above `key` of a map (a `#` line per line of `text`). */
function commentOn(map: unknown, key: string, text: string): void {
  if (!isMap(map)) return;
  const pair = (map as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key);
  if (pair && isScalar(pair.key))
    pair.key.commentBefore = text
      .split('\n')
      .map((l) => ` ${l}`)
      .join('\n');
}

const TRAFFIC_DOCS: Record<string, string> = {
  http: 'the service\'s admin API (GET|PUT /admin/rollout); the worker reads the bearer token from tokenEnv.\nDocs: docs/providers.md "http: an admin API".',
  'env-file':
    'the worker edits the env file, runs restartCommand and waits for healthUrl.\nDocs: docs/providers.md "env-file: variables and a restart".',
  haproxy:
    'server weights through HAProxy\'s Runtime API (a stats socket at level admin), a backend per group.\nDocs: docs/providers.md "haproxy: server weights through the Runtime API".',
  nginx:
    'the provider owns and rewrites `file` (include it inside http {}) and reads the state nginx serves on statusListen.\nPut the file in place with every group at 0% before the first rollout.\nDocs: docs/providers.md "nginx: upstream weights in a file the provider owns".',
  command:
    'a set and a read program, run without a shell ({group}, {percent} filled in).\nDocs: docs/providers.md "command: a set and a read program".',
};

/** The plan as commented YAML: what each part is and where its reference is. */
export function commentedYaml(plan: Record<string, unknown>, groups: Group[]): string {
  const doc = new Document(plan);
  doc.commentBefore = [
    ' Written by `npx rollout init`. Check it with `npx rollout verify <this file>`,',
    ' start it with `npx rollout start <this file>`.',
    ' Every field: docs/plan.md. Traffic and metrics providers: docs/providers.md.',
  ].join('\n');
  const target = doc.get('target', true);
  // Small maps of plain values on one line, as the seed plan writes steps and sources.
  visit(doc, {
    Map(_, node) {
      if (node.items.length <= 3 && node.items.every((p) => isScalar(p.value))) node.flow = true;
    },
  });
  const traffic = doc.getIn(['target', 'traffic']) as { get(k: string): unknown } | undefined;
  commentOn(
    doc.contents,
    'target',
    'The service: its id, the base URL the probes call, and how its traffic and metrics are reached.',
  );
  commentOn(
    target,
    'traffic',
    `How each group's share is set and read back: ${TRAFFIC_DOCS[String(traffic?.get('type'))] ?? ''}`,
  );
  commentOn(
    target,
    'metrics',
    'Requests, errors and latencies per implementation (domain, legacy).\nA preset names a common convention; impl says how the two implementations are told apart.\nDocs: docs/providers.md "Metrics as your service exports them".',
  );
  commentOn(
    target,
    'probes',
    'What the functional check sends to GET endpoints with {parameters}; add schemas and write lifecycles here.\nDocs: docs/plan.md "A plan with probes, for a service of your own".',
  );
  const writes = groups.some((g) => g.writes);
  commentOn(
    doc.contents,
    'phases',
    [
      `One phase per group, in order, with the seed plan's stages (plans/phase2-3.yaml):`,
      'reads 10→25→50→100%, writes 5→10→25→50→100%; each step is observed for its window.',
      ...(writes
        ? [
            'Write phases wait for approval and run no functional check until target.probes.writes',
            'has a lifecycle for their endpoints (then remove functional: off; add writeProbe, dataConsistency).',
          ]
        : []),
      'Docs: docs/plan.md "Fields".',
    ].join('\n'),
  );
  return doc.toString({ lineWidth: 0 });
}

/** A problem init's own flags can mend says which flag: a read probe's parameters come from --param. */
function withFlagHint(p: PlanProblem): PlanProblem {
  const params = /with params for (\{.*\}) \(/.exec(p.message)?.[1];
  if (!params) return p;
  const flags = params.split(', ').map((n) => `--param ${n.slice(1, -1)}=<value>`);
  return { ...p, message: `${p.message}; here: ${flags.join(' ')}` };
}

/**
 * Answers → the plan's YAML, validated as `rollout start` would load it. Nothing is written by
 * the caller unless `ok`: a plan that does not load is no help to anyone.
 */
export function initPlan(a: InitAnswers): InitPlan {
  const built = planFromAnswers(a);
  if (isProblem(built)) return { ok: false, problems: [built] };
  // The text as `start` will read it back: what is validated is what is written.
  const text = commentedYaml(built.plan, built.groups);
  const v = validatePlanDocument(parsePlanText('rollout-plan.yaml', text));
  if (!v.ok) return { ok: false, problems: v.problems.map(withFlagHint) };
  return { ok: true, text, plan: v.input, warnings: v.warnings };
}
