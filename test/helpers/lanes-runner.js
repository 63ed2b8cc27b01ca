// A jest runner with two lanes (jest.config.js `runner`), so that `npm test` uses both cores
// without ever running two end-to-end suites at once.
//
// - The `e2e` project's suites (real dev server, worker and backend processes, traffic, a browser;
//   their verdicts depend on latencies measured on this machine) run one at a time, in one jest
//   worker process of their own, as they did under `jest --runInBand`.
// - Every other suite runs meanwhile in the other lane: `maxWorkers - 1` worker processes (one on
//   a 2-core machine), or all `maxWorkers` when no e2e suite was selected (`npm run test:unit`).
// - The suites in NOTHING_BESIDE count requests or writes done in a second or two of real time:
//   with another suite's CPU-bound work beside them (the simulation's worker threads, a fuzzer)
//   they fall short. They run first, one at a time, with nothing beside them.
//
// `--runInBand` (`-i`) still runs everything in the jest process itself, one suite after another.
// The suites themselves run as before, with the same configuration: this decides only when each
// runs and what runs beside it.
'use strict';
const path = require('node:path');
const TestRunner = require('jest-runner').default;

/** The project (jest.config.js `displayName`) whose suites never run beside each other. */
const ALONE = 'e2e';

/** Suites (relative to the root) that run with no other suite beside them. */
const NOTHING_BESIDE = [
  // 80 requests/s for 2 s: cameras created within 1.2 s, 130-190 requests sent.
  'test/example-backend/traffic.test.ts',
  // More than 200 writes from four writers while 150 consistency checks run.
  'test/providers/consistency/sqlite-yaml.test.ts',
];

const laneOf = (test) => {
  const relative = path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/');
  if (NOTHING_BESIDE.includes(relative)) return 'nothing-beside';
  return test.context.config.displayName?.name === ALONE ? 'alone' : 'rest';
};

class LanesRunner {
  constructor(globalConfig, context) {
    const workers = Math.max(1, globalConfig.maxWorkers);
    this.supportsEventEmitters = true;
    this.isSerial = false;
    this.all = new TestRunner(globalConfig, context);
    this.alone = new TestRunner({ ...globalConfig, maxWorkers: 1 }, context);
    this.rest = new TestRunner({ ...globalConfig, maxWorkers: Math.max(1, workers - 1) }, context);
  }

  on(eventName, listener) {
    const off = [this.all, this.alone, this.rest].map((runner) => runner.on(eventName, listener));
    return () => off.forEach((unsubscribe) => unsubscribe());
  }

  async runTests(tests, watcher, options) {
    if (options.serial) return this.all.runTests(tests, watcher, options);
    const lane = (name) => tests.filter((t) => laneOf(t) === name);
    const [first, alone, rest] = [lane('nothing-beside'), lane('alone'), lane('rest')];
    if (first.length) await this.alone.runTests(first, watcher, options);
    if (alone.length === 0) return rest.length ? this.all.runTests(rest, watcher, options) : undefined;
    await Promise.all([
      this.alone.runTests(alone, watcher, options),
      rest.length ? this.rest.runTests(rest, watcher, options) : undefined,
    ]);
  }
}

module.exports = LanesRunner;
