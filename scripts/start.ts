/**
 * `npm start`: the whole product on one machine. A Temporal dev server with its state in
 * `.data/temporal.db` (skipped when TEMPORAL_ADDRESS is set), the rollout worker, the example
 * backend (`camera-api`) and synthetic traffic. Ctrl-C stops every child in order; running it
 * again resumes the rollouts that were in flight.
 *
 * Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233),
 * BACKEND_PORT (8000), ADMIN_TOKEN (dev-admin-token), TRAFFIC_RPS (100), ROLLOUT_UI_PORT (8400, the
 * rollout page), ROLLOUT_UI_TOKEN (the page's token; a random one by default), ROLLOUT_MAKE_CURRENT
 * (1 by default with its own dev server: its worker makes its build the current version; 0 leaves
 * promoting to you).
 * Flags: --no-traffic, --rps N, --no-example (Temporal, the worker and the page only: for rolling
 * out a service of your own; no camera backend, no synthetic traffic).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { connectionOptions, temporalSettings } from '../src/client/config';
import { registerSearchAttributes } from '../src/client/search-attributes';
import { uiToken } from '../src/ui/server';
import { policyFromEnv } from '../src/providers/policy';
import { rolloutStateKey, SEARCH_ATTRIBUTES } from '../src/contracts/definitions';
import { deploymentOptions, describePinnedElsewhere, rolloutsPinnedElsewhere } from '../src/worker-version';

// Plain JS, shared with `npm test` and the prestart install step.
const binaries = require('./temporal-binaries') as {
  ensure(kind: 'cli' | 'testServer'): string;
  find(kind: 'cli' | 'testServer'): string | undefined;
  TOOLS: string;
};

/** The line that puts the project's `temporal` on PATH, when that is where it is (README commands). */
function pathLine(): string {
  const cli = binaries.find('cli');
  if (!cli || path.dirname(cli) !== binaries.TOOLS) return '';
  return `  export PATH="${binaries.TOOLS}:$PATH"   # the stock \`temporal\` CLI, for the README's temporal commands\n`;
}

export const ROOT = path.resolve(__dirname, '..');
/** `ROLLOUT_DATA_DIR` moves the state, logs and backend data elsewhere (the tests' own stack). */
const DATA = process.env.ROLLOUT_DATA_DIR ? path.resolve(process.env.ROLLOUT_DATA_DIR) : path.join(ROOT, '.data');
const LOGS = path.join(DATA, 'logs');
/** The seed plan's consistency check reads ./data/cameras.db and ./data/cameras.yaml (git-ignored). */
const BACKEND_DATA = process.env.ROLLOUT_DATA_DIR ? path.join(DATA, 'backend') : path.join(ROOT, 'data');
const SWITCHES = path.join(DATA, 'backend-switches.json');
export const DEFAULT_ADMIN_TOKEN = 'dev-admin-token';

export class StartError extends Error {}

export interface StackOptions {
  traffic?: boolean;
  /** Start the example backend (and its traffic). Default true; false for a service of your own. */
  example?: boolean;
  rps?: number;
  /** Where progress lines go. */
  log?: (line: string) => void;
  /** Echo the worker's and backend's output (prefixed) to the console. */
  echo?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Temporal dev server state file; `null` keeps it in memory (the demo's throwaway stack). */
  temporalDb?: string | null;
  /** Start the backend at the traffic switches saved by the last run, and keep saving them. Default true. */
  persistSwitches?: boolean;
}

export interface Stack {
  temporalAddress: string;
  namespace: string;
  uiUrl: string | null;
  /** The rollout page, with its token (`?token=…`). */
  pageUrl: string;
  /** The worker's Prometheus metrics, or null when turned off. */
  metricsUrl: string | null;
  /** The worker's build id (Worker Deployment version), or null when it runs unversioned. */
  buildId: string | null;
  /** Versions other than the worker's that still have running rollouts pinned to them, one line each. */
  versionNotes: string[];
  /** The example backend, or null when started without it (`--no-example`). */
  backendUrl: string | null;
  adminToken: string;
  /** Environment for CLI commands and other children (TEMPORAL_ADDRESS, ADMIN_TOKEN, …). */
  env: NodeJS.ProcessEnv;
  /** Resolves when a child died unexpectedly (with its name and exit code). */
  crashed: Promise<string>;
  stop(): Promise<void>;
}

interface Child {
  name: string;
  proc: ChildProcess;
  /** The tail of its output. */
  out: string;
  /** Echo its output to the console, prefixed with its name. */
  echo: boolean;
  exited: Promise<void>;
  stopping: boolean;
}

function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new StartError(`${name}=${raw}: must be a port number 1..65535`);
  return n;
}

/** Resolves when nothing listens on the port; rejects with EADDRINUSE otherwise. */
function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

async function isTemporal(address: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: '2s' });
    await c.close();
    return true;
  } catch {
    return false;
  }
}

async function isBackend(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false>,
  child?: Child,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (child && child.proc.exitCode !== null)
      throw new StartError(
        `${child.name} exited (code ${child.proc.exitCode}) before ${what}; see ${path.relative(process.cwd(), path.join(LOGS, `${child.name}.log`))}`,
      );
    if (Date.now() > deadline)
      throw new StartError(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(300);
  }
}

function readSwitches(): Record<string, string> {
  try {
    const s = JSON.parse(fs.readFileSync(SWITCHES, 'utf8')) as {
      useDomainService?: boolean;
      groups?: Record<string, { percent?: number }>;
    };
    const env: Record<string, string> = {};
    if (typeof s.useDomainService === 'boolean') env.USE_DOMAIN_SERVICE = String(s.useDomainService);
    for (const [g, v] of Object.entries(s.groups ?? {}))
      if (typeof v.percent === 'number' && /^[a-z]+$/.test(g))
        env[`ROLLOUT_PERCENT_${g.toUpperCase()}`] = String(v.percent);
    return env;
  } catch {
    return {};
  }
}

/**
 * Starts the stack. Throws `StartError` with a one-line message (port in use, a child that would
 * not start) after stopping whatever it had started.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const baseEnv = opts.env ?? process.env;
  const external = !!baseEnv.TEMPORAL_ADDRESS;
  const temporalPort = portFromEnv(baseEnv, 'TEMPORAL_PORT', 7233);
  const uiPort = portFromEnv(baseEnv, 'TEMPORAL_UI_PORT', temporalPort + 1000);
  const backendPort = portFromEnv(baseEnv, 'BACKEND_PORT', 8000);
  const pagePort = portFromEnv(baseEnv, 'ROLLOUT_UI_PORT', 8400);
  const pageToken = uiToken(baseEnv.ROLLOUT_UI_TOKEN);
  // The worker's own metrics; ROLLOUT_METRICS_ADDRESS= (empty) turns them off.
  const metricsAddress = baseEnv.ROLLOUT_METRICS_ADDRESS ?? '127.0.0.1:9464';
  const adminToken = baseEnv.ADMIN_TOKEN || DEFAULT_ADMIN_TOKEN;
  const rps = opts.rps ?? Number(baseEnv.TRAFFIC_RPS || 100);
  const temporalAddress = external ? baseEnv.TEMPORAL_ADDRESS! : `127.0.0.1:${temporalPort}`;
  const settings = temporalSettings({ ...baseEnv, TEMPORAL_ADDRESS: temporalAddress });
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const env: NodeJS.ProcessEnv = { ...baseEnv, TEMPORAL_ADDRESS: temporalAddress, ADMIN_TOKEN: adminToken };
  // The dev server is ours: its worker makes its own build current, so a worker of a new commit is
  // never one nobody routes to. On someone else's cluster (TEMPORAL_ADDRESS) promoting is theirs.
  const workerEnv: NodeJS.ProcessEnv = {
    ...env,
    ROLLOUT_METRICS_ADDRESS: metricsAddress,
    ...(external ? {} : { ROLLOUT_MAKE_CURRENT: baseEnv.ROLLOUT_MAKE_CURRENT ?? '1' }),
  };
  let buildId: string | null;
  try {
    buildId = deploymentOptions(workerEnv)?.version.buildId ?? null;
  } catch (err) {
    throw new StartError((err as Error).message);
  }

  // Ports first: one clear line instead of a child's stack trace.
  if (!external) {
    if (!(await portFree(temporalPort))) {
      const hint = (await isTemporal(temporalAddress))
        ? `a Temporal server already answers there: use it with \`TEMPORAL_ADDRESS=${temporalAddress} npm start\`, or stop it (another \`npm start\` still running?)`
        : `stop what uses it (\`lsof -i :${temporalPort}\`) or pick another port with TEMPORAL_PORT=7300`;
      throw new StartError(`port ${temporalPort} (Temporal gRPC) is in use: ${hint}.`);
    }
    if (!(await portFree(uiPort)))
      throw new StartError(
        `port ${uiPort} (Temporal UI) is in use: stop what uses it (\`lsof -i :${uiPort}\`) or pick another with TEMPORAL_UI_PORT=8300.`,
      );
  }
  const example = opts.example !== false;
  if (example && !(await portFree(backendPort))) {
    const hint = (await isBackend(backendUrl))
      ? 'an example backend already answers there (another `npm start` still running?): stop it first'
      : `stop what uses it (\`lsof -i :${backendPort}\`)`;
    throw new StartError(
      `port ${backendPort} (example backend) is in use: ${hint}, or use BACKEND_PORT=8010 and \`npx rollout start <plan> --target-url http://127.0.0.1:8010\`.`,
    );
  }

  const metricsPort = /:(\d+)$/.exec(metricsAddress)?.[1];
  if (metricsPort && !(await portFree(Number(metricsPort))))
    throw new StartError(
      `port ${metricsPort} (the worker's metrics) is in use: stop what uses it or pick another with ROLLOUT_METRICS_ADDRESS=127.0.0.1:9474 (empty turns them off).`,
    );
  if (!(await portFree(pagePort)))
    throw new StartError(
      `port ${pagePort} (the rollout page) is in use: stop what uses it (\`lsof -i :${pagePort}\`; another \`npm start\` or \`npx rollout ui\`?) or pick another with ROLLOUT_UI_PORT=8410.`,
    );

  // The logs hold the page's token (its address) and whatever the children print: the owner's only.
  fs.mkdirSync(LOGS, { recursive: true, mode: 0o700 });
  fs.chmodSync(LOGS, 0o700);
  const children: Child[] = [];
  let onCrash: (why: string) => void = () => undefined;
  const crashed = new Promise<string>((resolve) => (onCrash = resolve));

  const spawnChild = (
    name: string,
    command: string,
    args: string[],
    childEnv: NodeJS.ProcessEnv,
    echo: boolean,
  ): Child => {
    const logPath = path.join(LOGS, `${name}.log`);
    const logFile = fs.createWriteStream(logPath, { flags: 'a', mode: 0o600 });
    // `mode` applies to a new file only; one left by an older run is narrowed too.
    if (fs.existsSync(logPath)) fs.chmodSync(logPath, 0o600);
    logFile.write(`\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    // Own process group: Ctrl-C reaches only this script, which then stops the children in order.
    const proc = spawn(command, args, {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const child: Child = {
      name,
      proc,
      out: '',
      echo: echo && opts.echo !== false,
      stopping: false,
      exited: new Promise((r) => proc.once('exit', () => r())),
    };
    const onData = (chunk: Buffer) => {
      logFile.write(chunk);
      child.out = (child.out + chunk.toString()).slice(-20_000);
      if (child.echo)
        for (const line of chunk.toString().split('\n'))
          if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code, signal) => {
      logFile.end();
      if (!child.stopping)
        onCrash(`${name} exited unexpectedly (${signal ?? `code ${code}`}); see ${path.relative(ROOT, path.join(LOGS, `${name}.log`))}`);
    });
    children.push(child);
    return child;
  };

  const stopChild = async (c: Child, timeoutMs = 15_000) => {
    c.stopping = true;
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    try {
      process.kill(-c.proc.pid!, 'SIGTERM');
    } catch {
      c.proc.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-c.proc.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    await c.exited;
    clearTimeout(timer);
  };

  let switchesTimer: NodeJS.Timeout | undefined;
  const saveSwitches = async () => {
    try {
      const res = await fetch(`${backendUrl}/admin/rollout`, {
        headers: { Authorization: `Bearer ${adminToken}` },
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) fs.writeFileSync(SWITCHES, JSON.stringify(await res.json()));
    } catch {
      /* backend not up (yet): keep the last saved switches */
    }
  };

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (switchesTimer) clearInterval(switchesTimer);
      const byName = (n: string) => children.filter((c) => c.name === n);
      for (const name of ['page', 'traffic', 'worker']) for (const c of byName(name)) await stopChild(c);
      if (byName('backend').length && opts.persistSwitches !== false) await saveSwitches();
      for (const c of byName('backend')) await stopChild(c);
      for (const c of byName('temporal')) await stopChild(c, 20_000);
    })());
  const killAll = () => {
    for (const c of children)
      if (c.proc.exitCode === null && c.proc.signalCode === null)
        try {
          process.kill(-c.proc.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
  };
  process.once('exit', killAll);

  try {
    const node = process.execPath;
    const ts = ['-r', 'ts-node/register/transpile-only'];
    let uiUrl: string | null = null;
    if (!external) {
      const cli = binaries.ensure('cli');
      const db = opts.temporalDb === undefined ? path.join(DATA, 'temporal.db') : opts.temporalDb;
      const args = [
        'server',
        'start-dev',
        ...(db ? ['--db-filename', db] : []),
        '--ip',
        '127.0.0.1',
        '--port',
        String(temporalPort),
        '--ui-port',
        String(uiPort),
      ];
      for (const [k, v] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${k}=${v}`);
      if (settings.namespace !== 'default') args.push('--namespace', settings.namespace);
      log(
        `starting Temporal dev server on ${temporalAddress} (${db ? `state in ${path.relative(ROOT, db)}` : 'state in memory'})…`,
      );
      const t = spawnChild('temporal', cli, args, env, false);
      await until('the Temporal dev server', 90_000, () => isTemporal(temporalAddress), t);
      uiUrl = `http://127.0.0.1:${uiPort}`;
    } else
      log(
        `using the Temporal server at ${temporalAddress} (TEMPORAL_ADDRESS), namespace ${settings.namespace}`,
      );

    // Idempotent; on the dev server the flags above already did it (other namespaces need this).
    const conn = await Connection.connect({
      ...connectionOptions(settings),
      connectTimeout: '10s',
    }).catch((err) => {
      throw new StartError(`cannot reach Temporal at ${temporalAddress}: ${(err as Error).message}`);
    });
    try {
      const added = await registerSearchAttributes(conn, settings.namespace);
      if (added.length)
        log(`registered search attributes ${added.join(', ')} on namespace ${settings.namespace}`);
    } catch (err) {
      log(
        `warning: could not register the search attributes (${(err as Error).message}); \`npx rollout list --state\` needs them (Temporal Cloud: add them in the namespace settings).`,
      );
    } finally {
      await conn.close();
    }

    const persist = opts.persistSwitches !== false;
    if (example) {
      const switches = persist
        ? readSwitches()
        : { USE_DOMAIN_SERVICE: 'true', ROLLOUT_PERCENT_READ: '0', ROLLOUT_PERCENT_WRITE: '0' };
      log(`starting the example backend on ${backendUrl} (data in ${path.relative(ROOT, BACKEND_DATA)}/)…`);
      const backend = spawnChild(
        'backend',
        node,
        [...ts, 'example-backend/server.ts'],
        { ...env, ...switches, PORT: String(backendPort), DATA_DIR: BACKEND_DATA },
        true,
      );
      await until('the example backend', 60_000, () => isBackend(backendUrl), backend);
      // The backend keeps its switches in memory; saving them lets a restart resume at the same share.
      if (persist) {
        switchesTimer = setInterval(() => void saveSwitches(), 2000);
        switchesTimer.unref();
      }
    } else log('no example backend (--no-example): point a plan at your own service');

    log('starting the rollout worker…');
    // Quiet while it bundles the workflow code (webpack's report is in the log); echoed once it runs.
    const worker = spawnChild('worker', node, [...ts, 'src/worker.ts'], workerEnv, false);
    await until('the worker', 120_000, async () => /rollout worker:/.test(worker.out), worker);
    worker.echo = opts.echo !== false;
    // Versioned, it has then polled and set (or read) the current version: rollouts pinned to the
    // other versions need a worker of theirs, which this stack does not run.
    let versionNotes: string[] = [];
    if (buildId) {
      await until('the worker to join its deployment', 30_000, async () => /worker deployment \S+: /.test(worker.out), worker).catch(
        () => undefined,
      );
      versionNotes = await pinnedNotes(settings, buildId);
    }

    log(`starting the rollout page on http://127.0.0.1:${pagePort}…`);
    const page = spawnChild(
      'page',
      node,
      [path.join(ROOT, 'bin/rollout.js'), 'ui', '--port', String(pagePort), '--host', '127.0.0.1'],
      { ...env, ROLLOUT_UI_TOKEN: pageToken },
      false,
    );
    const pageUrl = await until('the rollout page', 60_000, async () => /rollout page: (\S+)/.exec(page.out)?.[1], page);

    if (example && opts.traffic !== false) {
      spawnChild(
        'traffic',
        node,
        [...ts, 'example-backend/traffic.ts', '--target', backendUrl, '--rps', String(rps)],
        env,
        false,
      );
    }
    return {
      temporalAddress,
      namespace: settings.namespace,
      uiUrl,
      pageUrl,
      metricsUrl: metricsAddress ? `http://${metricsAddress}/metrics` : null,
      buildId,
      versionNotes,
      backendUrl: example ? backendUrl : null,
      adminToken,
      env,
      crashed,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * One line per other version of the deployment that still has running rollouts pinned to it (they
 * wait for a worker of their own build), or a plain warning when the server cannot tell.
 */
async function pinnedNotes(settings: ReturnType<typeof temporalSettings>, buildId: string): Promise<string[]> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: '5s' });
    const pinned = await rolloutsPinnedElsewhere(connection.workflowService, settings.namespace, buildId);
    if (pinned) return describePinnedElsewhere(pinned);
    return [
      `could not tell whether rollouts are pinned to other versions than ${buildId}: those need a worker of their own build (docs/operations.md, "Upgrading")`,
    ];
  } catch {
    return [];
  } finally {
    await connection?.close();
  }
}

/** Rollouts that were running when the stack came up (they resume by themselves). */
async function inFlight(env: NodeJS.ProcessEnv): Promise<string[]> {
  const settings = temporalSettings(env);
  const { Client } = await import('@temporalio/client');
  const connection = await Connection.connect({
    ...connectionOptions(settings),
    connectTimeout: '5s',
  });
  try {
    const client = new Client({ connection, namespace: settings.namespace });
    const out: string[] = [];
    for await (const wf of client.workflow.list({
      query: `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'`,
    })) {
      const state = wf.typedSearchAttributes.get(rolloutStateKey);
      out.push(`${wf.workflowId}${state ? ` (${state})` : ''}`);
    }
    return out;
  } catch {
    return [];
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rpsIndex = argv.indexOf('--rps');
  const rps = rpsIndex >= 0 ? Number(argv[rpsIndex + 1]) : undefined;
  if (rps !== undefined && !(rps > 0)) {
    console.error('npm start: --rps needs a positive number');
    process.exit(2);
  }
  let stack: Stack;
  try {
    stack = await startStack({ traffic: !argv.includes('--no-traffic'), example: !argv.includes('--no-example'), rps });
  } catch (err) {
    console.error(`npm start: ${err instanceof StartError ? err.message : (err as Error).message}`);
    process.exit(1);
  }
  const running = await inFlight(stack.env);
  const rpsShown = rps ?? Number(process.env.TRAFFIC_RPS || 100);
  console.log(`
Rollout Orchestrator is up:
  Temporal      ${stack.temporalAddress} namespace ${stack.namespace}${stack.uiUrl ? ` (dev server, state in ${path.relative(ROOT, path.join(DATA, 'temporal.db'))})` : ''}
  rollout page  ${stack.pageUrl}
  Temporal UI   ${stack.uiUrl ?? "(your cluster's UI)"}
  worker        task queue ${temporalSettings(stack.env).taskQueue}${stack.buildId ? `, version ${stack.buildId}` : ', unversioned'}${stack.metricsUrl ? `, metrics ${stack.metricsUrl}` : ''}
  policy        plans may reach ${policyFromEnv(stack.env, ROOT).describe()}
                (more: ROLLOUT_ALLOW_HOSTS, _PATHS, _COMMANDS, _TOKEN_ENV in npm start's environment and your shell's; docs/operations.md)
${
    stack.backendUrl
      ? `  backend       ${stack.backendUrl} (camera-api example; ADMIN_TOKEN=${stack.adminToken})
  traffic       ${argv.includes('--no-traffic') ? 'off (--no-traffic)' : `${rpsShown} req/s of synthetic users`}
`
      : `  backend       none (--no-example): your service, behind its router
`
  }  logs          ${path.relative(ROOT, LOGS)}/
${running.length ? `Resumed rollouts in flight: ${running.join(', ')}\n` : ''}${stack.versionNotes.map((n) => `Note: ${n}\n`).join('')}
Next, in another terminal:
${
    stack.backendUrl
      ? `  npx rollout start plans/phase2-3.yaml --time-scale 60
  npx rollout watch rollout-camera-api
  export ADMIN_TOKEN=${stack.adminToken}   # for \`npx rollout verify\` and the example backend's /admin routes`
      : `  npx rollout init                              # a commented plan for your service, written and verified
  npx rollout verify <your plan> --explain       # what the plan reads and checks, before any traffic moves
  npx rollout start <your plan>
  (plans for a service behind HAProxy, nginx or a command: docs/providers.md)`
  }
${pathLine()}
Ctrl-C stops everything; \`npm start\` again resumes rollouts in flight.`);

  let interrupted = 0;
  const shutdown = async (why: string, code: number) => {
    console.log(`\n${why}: stopping the page, traffic, worker, backend${stack.uiUrl ? ', Temporal' : ''}…`);
    await stack.stop();
    console.log('stopped.');
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      interrupted++;
      if (interrupted === 1) void shutdown(sig, 0);
      else if (interrupted === 2) console.log('still stopping; Ctrl-C again to kill everything at once');
      else process.exit(130);
    });
  const why = await stack.crashed;
  await shutdown(why, 1);
}

if (require.main === module) void main();
