/**
 * `npm start` as a newcomer runs it (scripts/start.ts as a process, every port free, its state in a
 * temporary directory): the banner names the rollout page, the worker's metrics and the PATH line,
 * they answer, and SIGTERM (`kill`, `systemctl stop`, `docker stop`) stops every child as Ctrl-C does.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, tempDir } from '../helpers/processes';

jest.setTimeout(300_000);

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A free port below the kernel's ephemeral range: the ports `npm start` is told to use are only
 * bound once its Temporal dev server is up, and that server binds ports of its own (metrics, HTTP)
 * from the ephemeral range, which once took the backend's port first (EADDRINUSE in CI).
 */
async function freeFixedPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

/** `scripts/start.ts` as a process with `args`; `up()` resolves once its banner is printed. */
function startNpmStart(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'scripts/start.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const up = async () => {
    const deadline = Date.now() + 240_000;
    while (!/Ctrl-C stops everything/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start not up after 240 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  return { child, exited, up, output: () => output };
}

/** The fixed ports `npm start` is told to use, each free now (`taken` keeps them apart). */
async function stackPorts(taken: Set<number>) {
  return {
    TEMPORAL_PORT: await freeFixedPort(taken),
    TEMPORAL_UI_PORT: await freeFixedPort(taken),
    BACKEND_PORT: await freeFixedPort(taken),
    ROLLOUT_UI_PORT: await freeFixedPort(taken),
  };
}

test('npm start comes up with the page and the metrics, and SIGTERM stops everything', async () => {
  const taken = new Set<number>();
  const ports = await stackPorts(taken);
  const metricsPort = await freeFixedPort(taken);
  const dataDir = tempDir('npm-start');
  const env: NodeJS.ProcessEnv = { ...process.env, ROLLOUT_DATA_DIR: dataDir, ROLLOUT_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` };
  delete env.TEMPORAL_ADDRESS;
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  const { child, exited, up, output: printed } = startNpmStart(['--rps', '5'], env);
  try {
    await up();
    const output = printed();
    const page = /rollout page\s+(http:\/\/127\.0\.0\.1:(\d+)\/\?token=\S+)/.exec(output);
    expect(page?.[2]).toBe(String(ports.ROLLOUT_UI_PORT));
    expect(output).toContain(`metrics http://127.0.0.1:${metricsPort}/metrics`);
    expect(output).toMatch(/export PATH=".*\.tools\/temporal:\$PATH"/);
    const health = (await (await fetch(`http://127.0.0.1:${ports.ROLLOUT_UI_PORT}/healthz`)).json()) as { service: string };
    expect(health.service).toBe('rollout-page');
    // The page's API needs the page's token for reads as well.
    const token = new URL(page![1]).searchParams.get('token')!;
    const api = `http://127.0.0.1:${ports.ROLLOUT_UI_PORT}/api/rollouts`;
    expect((await fetch(api)).status).toBe(401);
    expect((await fetch(api, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    // The logs hold that token (the page prints its address): the owner's only.
    for (const name of ['temporal', 'backend', 'worker', 'page'])
      expect([name, statSync(path.join(dataDir, 'logs', `${name}.log`)).mode & 0o777]).toEqual([name, 0o600]);
    expect(statSync(path.join(dataDir, 'logs')).mode & 0o777).toBe(0o700);
    // The worker's Worker Deployment version: the package's and the commit's.
    expect(output).toMatch(/worker\s+task queue rollouts, version \d+\.\d+\.\d+\+[0-9a-f]{12}/);
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).toMatch(/^rollout_orchestrator_rollouts\{state="observing"\} 0$/m);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(printed()).toMatch(/SIGTERM: stopping the page, traffic, worker, backend, Temporal…\n(.*\n)*stopped\.\n$/);
    for (const port of [...Object.values(ports).filter((p) => p !== ports.TEMPORAL_UI_PORT), metricsPort])
      expect([port, await listening(port)]).toEqual([port, false]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('npm start -- --no-example comes up without the camera backend and its traffic', async () => {
  const taken = new Set<number>();
  const ports = await stackPorts(taken);
  const dataDir = tempDir('npm-start-no-example');
  const env: NodeJS.ProcessEnv = { ...process.env, ROLLOUT_DATA_DIR: dataDir, ROLLOUT_METRICS_ADDRESS: '' };
  delete env.TEMPORAL_ADDRESS;
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  const { child, exited, up, output: printed } = startNpmStart(['--no-example'], env);
  try {
    await up();
    const output = printed();
    expect(output).toContain('backend       none (--no-example): your service, behind its router');
    expect(output).toContain('npx rollout init');
    expect(output).toMatch(/policy {8}plans may reach hosts .*; paths /);
    expect(output).toContain('npx rollout verify <your plan> --explain');
    expect(output).not.toMatch(/starting the example backend|synthetic users/);
    expect(await listening(ports.BACKEND_PORT)).toBe(false);
    expect(await listening(ports.ROLLOUT_UI_PORT)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
