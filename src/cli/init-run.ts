import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { out } from '../client/action';
import { CliError, EXIT } from '../client/errors';
import { INIT_ANSWER_FIELDS, type VerbOptions } from '../client/options';
import { flagOf, neededAnswers, OFFERED, type InitAnswers } from './init-answers';
import { initPlan } from './init-plan';
import { loadPlanForCli } from './plan-file';
import { policyNeeds } from './policy-needs';
import { policyFromEnv } from '../providers/policy';
import { renderNginxFile } from '../providers/traffic';

/** What a prompt asks for each answer. */
const QUESTIONS: Partial<Record<keyof InitAnswers, string>> = {
  targetId: 'Target id (letters, digits, ".", "_", "-"), e.g. orders-api',
  targetUrl: "The service's base URL (the probes call it), e.g. http://127.0.0.1:8100",
  router: 'How is traffic switched? http, env-file, haproxy, nginx or command',
  envFile: 'env-file: the file of variables the worker edits',
  restartCommand: 'env-file: the command that restarts the service',
  haproxySocket: 'haproxy: the Runtime API socket (/path/admin.sock or host:port)',
  backend: 'haproxy: the backend (one name, or read=be_read,write=be_write)',
  legacyServer: 'haproxy: the legacy server in it',
  domainServer: 'haproxy: the domain server in it',
  nginxFile: 'nginx: the file the provider owns (included inside http {})',
  legacyAddress: 'nginx: the legacy implementation (host:port)',
  domainAddress: 'nginx: the domain implementation (host:port)',
  setCommand: 'command: sets a percent (JSON array or words, with {group} and {percent})',
  readCommand: 'command: prints the percent in force (with {group})',
  metrics: 'Metrics source: exposition (its /metrics) or prometheus',
  prometheusUrl: 'Prometheus URL, e.g. http://127.0.0.1:9090',
  preset: 'Metrics names: default, opentelemetry, micrometer, haproxy, envoy or traefik',
  impl: 'How are the implementations told apart? [label=L,]domain=D,legacy=L',
  endpoint: 'An endpoint, like GET /api/v1/items (an empty line ends the list)',
};

/**
 * Asks for what is missing, one line per answer from stdin. Lines are read through the interface's
 * iterator, which buffers them: piped answers that arrive before their question are not lost.
 */
async function askMissing(a: InitAnswers): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (key: keyof InitAnswers, hint: string): Promise<string> => {
    process.stdout.write(`${QUESTIONS[key] ?? flagOf(key)}${hint}: `);
    const next = await lines.next();
    if (next.done)
      throw new CliError(`${flagOf(key)}: no answer (stdin ended); nothing was written`, EXIT.invalid);
    const answer = String(next.value).trim();
    // A terminal echoes what is typed; piped answers are shown, so the transcript reads as asked.
    if (!process.stdin.isTTY) process.stdout.write(`${answer}\n`);
    return answer;
  };
  try {
    for (let key = neededAnswers(a, true)[0]; key; key = neededAnswers(a, true)[0]) {
      const fallback = OFFERED[key];
      if (key === 'endpoint') {
        for (let e = await ask(key, ''); e; e = await ask(key, '')) a.endpoint.push(e);
        if (!a.endpoint.length) out.line('  at least one endpoint is needed');
        continue;
      }
      const answer = (await ask(key, fallback ? ` [${fallback}]` : '')) || fallback;
      if (!answer) continue; // asked again
      const checked = INIT_ANSWER_FIELDS[key].safeParse(answer);
      if (checked.success) Object.assign(a, { [key]: checked.data });
      else out.line(`  ${checked.error.issues[0]?.message ?? 'not valid'}`);
    }
  } finally {
    rl.close();
  }
}

/**
 * verify's options for the plan just written: the default window, metrics sampled and explained. The one place
 * that says how init runs verify: whoever reads init's output is new to the plan's figures.
 */
const VERIFY_OPTIONS: VerbOptions<'verify'> = {
  window: 15_000,
  metrics: true,
  explain: true,
};

/** `init`: answers (flags, then prompts), the plan checked, written, then verified. */
export async function runInit(o: VerbOptions<'init'>): Promise<number> {
  const { out: file, force, yes, interactive, verify, ...answers } = o;
  // Refused before any question: answers typed for a file that cannot be written are wasted.
  if (!force && existsSync(file))
    throw new CliError(
      `${file}: already exists; give --force to overwrite it, or --out another file (nothing was written)`,
      EXIT.invalid,
    );
  if (!yes && (interactive || process.stdin.isTTY)) await askMissing(answers);
  const missing = neededAnswers(answers);
  if (missing.length)
    throw new CliError(
      `missing ${missing.map(flagOf).join(', ')} (${yes ? 'with --yes' : 'stdin is not a terminal'} nothing is asked; --interactive asks anyway); nothing was written`,
      EXIT.invalid,
    );

  const r = initPlan(answers);
  if (!r.ok) {
    const n = r.problems.length;
    throw new CliError(
      `the answers do not make a valid plan (${n} problem${n === 1 ? '' : 's'}); nothing was written:`,
      EXIT.invalid,
      r.problems.map((p) => `  ${p.path}: ${p.message}`),
    );
  }
  try {
    await writeFile(file, r.text, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    throw new CliError(`${file}: cannot write it (${(err as Error).message})`, EXIT.invalid);
  }
  out.line(`wrote ${file}`);
  for (const w of r.warnings) out.error(`warning: ${w.path}: ${w.message}`);
  await afterWriting(file);
  if (!verify) {
    out.line(`next: npx rollout verify ${file} --explain, then npx rollout start ${file}`);
    return EXIT.ok;
  }

  out.line(`running: npx rollout verify ${file} --explain`);
  const { verifyStage } = await import('./verify-stage');
  try {
    return await verifyStage(file, VERIFY_OPTIONS);
  } catch (err) {
    // The plan stays written: what verify could not reach is the service's, not the plan's.
    if (!(err instanceof CliError)) throw err;
    out.error(`rollout: verify: ${err.message}`);
    for (const d of err.details) out.error(d);
    out.error(`the plan is written; once that is fixed: npx rollout verify ${file} --explain`);
    return err.code;
  }
}

/**
 * What a new user needs next that is not in the plan: the router file an nginx plan starts from
 * (every group at 0%, as the provider renders it) when it is not there yet, and the policy
 * variables the worker and this shell need for what the plan reaches.
 */
async function afterWriting(file: string): Promise<void> {
  const { plan } = await loadPlanForCli(file);
  const t = plan.target.traffic;
  if (t.type === 'nginx' && !existsSync(t.file)) {
    try {
      await writeFile(t.file, renderNginxFile(t, {}).text, { flag: 'wx' });
      out.line(
        `wrote ${t.file} with every group at 0% (the provider's file: include it inside http {}, then nginx -t and a reload)`,
      );
    } catch (err) {
      out.error(
        `warning: ${t.file}: not written (${(err as Error).message}); the provider needs it in place, every group at 0%`,
      );
    }
  }
  const needs = policyFromEnv(process.env).planNeeds(plan);
  if (needs.length) {
    out.error(
      "the worker's policy does not allow everything this plan reaches; set, in npm start's environment and in this shell:",
    );
    out.error(`  export ${policyNeeds(needs, process.env).join(' ')}`);
  }
}
