/**
 * Runs cells on worker threads: a table of thousands of simulated steps drives the real verdict
 * code at every check, and that is CPU-bound. Runs are cut into slices; figures do not depend on
 * the slicing, since every run has its own seed.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { runCell, type Cell, type RunRecord } from './experiment';
import type { Task } from './pool-worker';

export interface PoolOptions {
  /** Worker threads; 1 runs everything on the calling thread. Default: the CPUs, at most 2. */
  threads?: number;
  /** Called after each slice with the runs done and the runs in all. */
  onProgress?: (done: number, total: number) => void;
}

export const defaultThreads = () => Math.max(1, Math.min(2, cpus().length));

/** A worker running this very source: through ts-node when the sources are TypeScript. */
function startWorker(): Worker {
  const ts = path.join(__dirname, 'pool-worker.ts');
  if (__filename.endsWith('.ts') && existsSync(ts)) {
    const project = path.resolve(__dirname, '../../tsconfig.json');
    const code = `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(project)} }); require(${JSON.stringify(ts)});`;
    return new Worker(code, { eval: true });
  }
  return new Worker(path.join(__dirname, 'pool-worker.js'));
}

/** Every run of every cell, by cell id, in run order. */
export async function runCells(cells: Cell[], opts: PoolOptions = {}): Promise<Map<string, RunRecord[]>> {
  const threads = Math.max(1, opts.threads ?? defaultThreads());
  const total = cells.reduce((a, c) => a + c.runs, 0);
  let done = 0;
  const tasks: Task[] = [];
  for (const cell of cells) {
    // Slices small enough to spread a long cell over the threads, large enough to be worth a message.
    const size = Math.max(1, Math.ceil(cell.runs / (threads * 4)));
    for (let from = 0; from < cell.runs; from += size)
      tasks.push({ task: tasks.length, cell, from, to: Math.min(cell.runs, from + size) });
  }
  const slices = new Map<number, RunRecord[]>();
  const place = (t: Task, records: RunRecord[]) => {
    slices.set(t.task, records);
    done += records.length;
    opts.onProgress?.(done, total);
  };
  if (threads === 1 || tasks.length <= 1) {
    for (const t of tasks) place(t, runCell(t.cell, t.from, t.to));
  } else {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let running = 0;
      const workers = Array.from({ length: Math.min(threads, tasks.length) }, startWorker);
      const stop = () => Promise.all(workers.map((w) => w.terminate()));
      const feed = (w: Worker) => {
        if (next >= tasks.length) {
          if (running === 0) stop().then(() => resolve(), reject);
          return;
        }
        running++;
        w.postMessage(tasks[next++]);
      };
      for (const w of workers) {
        w.on('message', (m: { task: number; records: RunRecord[] }) => {
          running--;
          place(tasks[m.task], m.records);
          feed(w);
        });
        w.on('error', (err) => {
          void stop();
          reject(err);
        });
        feed(w);
      }
    });
  }
  const out = new Map<string, RunRecord[]>();
  for (const cell of cells) out.set(cell.id, []);
  for (const t of tasks) out.get(t.cell.id)!.push(...slices.get(t.task)!);
  return out;
}
