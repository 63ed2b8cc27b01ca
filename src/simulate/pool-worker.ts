/** A worker thread of `runCells`: runs the slices of cells it is sent. */
import { parentPort } from 'node:worker_threads';
import { runCell, type Cell } from './experiment';

export interface Task {
  task: number;
  cell: Cell;
  from: number;
  to: number;
}

parentPort?.on('message', (t: Task) => {
  parentPort!.postMessage({ task: t.task, records: runCell(t.cell, t.from, t.to) });
});
