import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startProcess, tempDir, type Child } from './processes';

/** Debian's package (`apt-get install -y prometheus`) puts the server here; PROMETHEUS_BIN overrides. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';

export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` */
  url: string;
  child: Child;
  /** Instant query; the result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/** Scrape jobs: each job's name and its targets (`host:port`, path `/metrics`). */
export type ScrapeJobs = Record<string, string[]>;

/**
 * A real Prometheus scraping `target` (`host:port`, path `/metrics`) every second as job `job`, or
 * every target of several jobs (two implementations as two jobs, say), with its configuration and
 * TSDB in a temporary directory. Resolves once every job has a target up.
 */
export async function startPrometheus(target: string, job: string): Promise<RunningPrometheus>;
export async function startPrometheus(jobs: ScrapeJobs): Promise<RunningPrometheus>;
export async function startPrometheus(targetOrJobs: string | ScrapeJobs, job?: string): Promise<RunningPrometheus> {
  const jobs: ScrapeJobs = typeof targetOrJobs === 'string' ? { [job!]: [targetOrJobs] } : targetOrJobs;
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(
      `Prometheus is not installed (${PROMETHEUS_BIN} is missing): run \`apt-get install -y prometheus\` ` +
        '(Debian/Ubuntu), or point PROMETHEUS_BIN at a prometheus binary',
    );
  }
  const port = await freePort();
  const dir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/rollout-prometheus-') : tempDir('prometheus');
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      ...Object.entries(jobs).flatMap(([name, targets]) => [
        `  - job_name: ${JSON.stringify(name)}`,
        '    scrape_interval: 1s',
        '    scrape_timeout: 1s',
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ${JSON.stringify(targets)}`,
      ]),
      '',
    ].join('\n'),
  );
  const child = startProcess(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { ...process.env },
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const query: RunningPrometheus['query'] = async (promql) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`Prometheus query ${promql}: ${body.error ?? res.status}`);
    return body.data!.result;
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.proc.exitCode !== null)
        throw new Error(`prometheus exited (${child.proc.exitCode}):\n${child.output().slice(-3000)}`);
      try {
        const up = await query('up == 1');
        if (Object.keys(jobs).every((j) => up.some((r) => r.metric.job === j))) break;
      } catch {
        // not ready yet
      }
      if (Date.now() > deadline)
        throw new Error(`prometheus did not scrape ${JSON.stringify(jobs)} within 60 s:\n${child.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, child, query, stop };
}
