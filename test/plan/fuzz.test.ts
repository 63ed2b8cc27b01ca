import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { PlanFileError, parsePlanText } from '../../src/plan/load';
import { validatePlan, type PlanValidation } from '../../src/plan/validate';
import { invariants } from './invariants';
import { corrupt, duplicateKeyLine, mutate, pick, rng, withMergeKey } from './plan-fuzzer';

/**
 * Thousands of mutated seed plans, seeded and so reproducible. Every outcome must be a plan that
 * satisfies the invariants, or a rejection in which every problem names a path; never a throw,
 * never an invalid plan accepted.
 */
const seedText = readFileSync(path.resolve(__dirname, '../../plans/phase2-3.yaml'), 'utf8');
const seedObject = parse(seedText) as Record<string, unknown>;
const seed = (): Record<string, unknown> => structuredClone(seedObject);
const QUOTED = String.raw`\["(?:[^"\\]|\\.)*"\]`;
const PATH = new RegExp(
  String.raw`^(\(plan\)|[A-Za-z_$][\w$-]*|${QUOTED})(\.[A-Za-z_$][\w$-]*|\[\d+\]|${QUOTED})*$`,
);

interface Tally {
  accepted: number;
  rejected: number;
  refusedText: number;
}

function judge(what: string, input: unknown, tally: Tally): PlanValidation {
  let v: PlanValidation;
  try {
    v = validatePlan(input);
  } catch (err) {
    throw new Error(`${what}: validatePlan threw ${(err as Error).stack}`);
  }
  if (v.ok) {
    const broken = invariants(v.plan, input);
    if (broken.length > 0)
      throw new Error(`${what}: accepted an invalid plan: ${broken.join('; ').slice(0, 2000)}`);
    tally.accepted++;
  } else {
    if (v.problems.length === 0) throw new Error(`${what}: rejected without a problem`);
    for (const p of v.problems)
      if (!PATH.test(p.path) || typeof p.message !== 'string' || p.message.length === 0)
        throw new Error(`${what}: a problem without a path or message: ${JSON.stringify(p).slice(0, 2000)}`);
    tally.rejected++;
  }
  return v;
}

/** Text that fails to parse must fail as a PlanFileError naming the file. */
function parseOrRefuse(
  what: string,
  file: string,
  text: string,
  tally: Tally,
): { value: unknown } | undefined {
  try {
    return { value: parsePlanText(file, text) };
  } catch (err) {
    if (!(err instanceof PlanFileError)) throw new Error(`${what}: parse threw ${(err as Error).stack}`);
    if (!err.headline.startsWith(file))
      throw new Error(`${what}: headline does not name the file: ${err.headline}`);
    tally.refusedText++;
    return undefined;
  }
}

test('3,000 mutated plan objects: valid and inside the invariants, or rejected with paths', () => {
  const r = rng(8);
  const tally: Tally = { accepted: 0, rejected: 0, refusedText: 0 };
  for (let n = 0; n < 3000; n++) {
    const doc = seed();
    const done: string[] = [];
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) done.push(mutate(r, doc));
    judge(`case ${n} (${done.join(', ')})`, doc, tally);
  }
  // Both outcomes occur: the generator is neither all-garbage nor all-harmless.
  expect(tally.accepted).toBeGreaterThan(100);
  expect(tally.rejected).toBeGreaterThan(1500);
});

test('600 mutated plan texts: merge keys, duplicate keys, corrupt YAML and JSON', () => {
  const r = rng(88);
  const tally: Tally = { accepted: 0, rejected: 0, refusedText: 0 };
  let mergedApprovals = 0;
  for (let n = 0; n < 600; n++) {
    const doc = seed();
    if (r() < 0.5) mutate(r, doc);
    const form = pick(r, [
      'merge',
      'duplicate-yaml',
      'duplicate-json',
      'corrupt-yaml',
      'corrupt-json',
    ] as const);
    const what = `text case ${n} (${form})`;
    const json = form.endsWith('json');
    let text = form === 'merge' ? withMergeKey(r, doc) : json ? JSON.stringify(doc, null, 2) : stringify(doc);
    if (form.startsWith('duplicate')) {
      const dup = duplicateKeyLine(r, text);
      if (!dup) continue;
      text = dup;
    }
    if (form.startsWith('corrupt')) text = corrupt(r, text);
    const parsed = parseOrRefuse(what, json ? 'plan.json' : 'plan.yaml', text, tally);
    if (form.startsWith('duplicate') && parsed)
      throw new Error(`${what}: a duplicate key was accepted:\n${text}`);
    if (!parsed) continue;
    const v = judge(what, parsed.value, tally);
    if (form === 'merge' && v.ok && v.plan.phases[1]?.approval === 'before-start') mergedApprovals++;
  }
  expect(tally.refusedText).toBeGreaterThan(200);
  expect(mergedApprovals).toBeGreaterThan(20);
});

test('self-referencing and deeply nested values are rejected, not recursed into', () => {
  const tally: Tally = { accepted: 0, rejected: 0, refusedText: 0 };
  const cyclic = seed();
  (cyclic.phases as Array<Record<string, unknown>>)[0].steps = [cyclic];
  (cyclic.defaults as Record<string, unknown>)['x-self'] = cyclic;
  expect(judge('cycle', cyclic, tally).ok).toBe(false);
  let deep: unknown = 'leaf';
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const nested = seed();
  nested.name = deep;
  expect(judge('deep', nested, tally).ok).toBe(false);
});
