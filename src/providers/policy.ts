/**
 * What a plan may use, decided by the worker (issue 21, "a plan is not a key"). Anyone who can
 * start a workflow writes the plan, so a plan is untrusted input: it names hosts the worker calls
 * (sending a token to one of them), a variable whose value is that token, commands the worker runs
 * and files it reads or rewrites. The worker's environment says which of those are allowed, and
 * the worker checks every plan against it when the rollout starts and again where it acts.
 *
 * - `ROLLOUT_ALLOW_HOSTS`: `host[:port]` patterns (`*.example.com`, `[::1]`, `host:*`; `*` any)
 *   the worker may call. Default: loopback (`127.0.0.1`, `localhost`, `[::1]`, any port).
 * - `ROLLOUT_ALLOW_TOKEN_ENV`: variables `tokenEnv` may name (`NAME`, `PREFIX_*`; `*` any).
 *   Default: `ROLLOUT_TOKEN_*,ADMIN_TOKEN`.
 * - `ROLLOUT_ALLOW_COMMANDS`: directories (or files) the programs of commands must live in; `*`
 *   runs any shell command. Default: none (no plan runs a command).
 * - `ROLLOUT_ALLOW_PATHS`: directories (or files) env files, consistency stores, the nginx file a
 *   traffic provider owns and HAProxy's Runtime API socket may be in, not
 *   below a hidden directory (`.data`, `.git`, `.env`) unless listed itself; `*` any. Default: the
 *   worker's working directory.
 * - `ROLLOUT_COMMAND_ENV`: variables (`NAME`, `PREFIX_*`) a command gets besides the minimal
 *   environment (PATH, HOME, USER, LOGNAME, LANG, LC_*, TZ, TMPDIR) and the rollout's `ROLLOUT_*`.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Plan } from '../plan/schema';
import { checksOf } from '../plan/checks';
import { permanent } from './errors';
import { createRedactor, redactDeep, secretValues, type Redact } from './redact';
import type { Env } from './settings';
import { runShell, type ShellOptions, type ShellResult } from './shell';

/** The failure type of a plan the policy refuses (non-retryable: the same plan is refused again). */
export const POLICY_REFUSED = 'RolloutPolicyRefused';
const PREFIX = "plan refused by the worker's policy";

export const POLICY_DEFAULTS = {
  ROLLOUT_ALLOW_HOSTS: '127.0.0.1,localhost,[::1]',
  ROLLOUT_ALLOW_TOKEN_ENV: 'ROLLOUT_TOKEN_*,ADMIN_TOKEN',
  ROLLOUT_ALLOW_COMMANDS: '',
  /** The worker's working directory. */
  ROLLOUT_ALLOW_PATHS: '.',
  ROLLOUT_COMMAND_ENV: '',
} as const;

type PolicyVariable = keyof typeof POLICY_DEFAULTS;

/** Variables every command gets from the worker's environment (nothing secret in them). */
const BASE_COMMAND_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
];

export interface PolicyProblem {
  /** Where in the plan, e.g. `target.traffic.tokenEnv`. */
  path: string;
  message: string;
}

/** A refused use with what the policy would have to list to allow it: a host, directory or name. */
export interface PolicyNeed extends PolicyProblem {
  allow?: { variable: Exclude<PolicyVariable, 'ROLLOUT_COMMAND_ENV'>; value: string };
}

/** The refusals alone: what providers, activities and failure details carry. */
const problemsOf = (needs: PolicyNeed[]): PolicyProblem[] =>
  needs.map(({ path: where, message }) => ({ path: where, message }));

interface HostPattern {
  host: string;
  /** `undefined`: any port. */
  port?: number;
}

/** A command the policy allows, ready to run: the program's real path and its words. */
export interface PreparedCommand {
  /** `null` when any shell command is allowed: it runs with `/bin/sh -c`. */
  argv: string[] | null;
  text: string;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function configError(name: string, message: string): Error {
  return new Error(`${name}: ${message}`);
}

function parseHost(entry: string): HostPattern | '*' {
  const e = entry.toLowerCase();
  if (e === '*') return '*';
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(e))
    throw configError('ROLLOUT_ALLOW_HOSTS', `${entry}: a host[:port], not a URL (e.g. api.internal:8000)`);
  let host: string;
  let port: string | undefined;
  const v6 = /^(\[[0-9a-f:.]+\])(?::(\d+|\*))?$/.exec(e);
  if (v6) [, host, port] = v6;
  else {
    const m = /^((?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)(?::(\d+|\*))?$/.exec(e);
    if (!m)
      throw configError(
        'ROLLOUT_ALLOW_HOSTS',
        `${entry}: not a host[:port] pattern (e.g. 127.0.0.1:8000, *.internal, [::1])`,
      );
    [, host, port] = m;
  }
  if (port === undefined || port === '*') return { host };
  const n = Number(port);
  if (!(n >= 1 && n <= 65535)) throw configError('ROLLOUT_ALLOW_HOSTS', `${entry}: port must be 1..65535`);
  return { host, port: n };
}

function nameMatcher(name: PolicyVariable, patterns: string[]): (candidate: string) => boolean {
  for (const p of patterns)
    if (!/^(\*|[A-Za-z_][A-Za-z0-9_]*\*?)$/.test(p))
      throw configError(name, `${p}: a variable name or a prefix ending in * (e.g. ROLLOUT_TOKEN_*)`);
  return (candidate) =>
    patterns.some(
      (p) => p === '*' || (p.endsWith('*') ? candidate.startsWith(p.slice(0, -1)) : candidate === p),
    );
}

/** The real path of `p`, or of its nearest existing parent with the rest appended. */
function realPath(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPath(parent), path.basename(abs));
  }
}

interface Place {
  path: string;
  dir: boolean;
}

function places(name: PolicyVariable, entries: string[], cwd: string): Place[] | '*' {
  if (entries.includes('*')) return '*';
  return entries.map((e) => {
    if (e.includes('\0')) throw configError(name, 'a path cannot contain NUL');
    const real = realPath(path.resolve(cwd, e));
    let dir = true;
    try {
      dir = statSync(real).isDirectory();
    } catch {
      // Not there (yet): taken as a directory.
    }
    return { path: real, dir };
  });
}

/** `undefined` when `real` is allowed by one of `allowed`, else why not. */
function outside(real: string, allowed: Place[]): { hidden?: string } | undefined {
  let hidden: string | undefined;
  for (const a of allowed) {
    if (!a.dir) {
      if (real === a.path) return undefined;
      continue;
    }
    const rel = path.relative(a.path, real);
    if (rel === '') return undefined; // the entry itself (a file not there yet is taken as a directory)
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const dot = rel.split(path.sep).find((seg) => seg.startsWith('.'));
    if (!dot) return undefined;
    hidden = dot;
  }
  return hidden ? { hidden } : {};
}

/** Characters a command may use outside quotes: words, paths, options, `key=value`. */
const PLAIN = /[A-Za-z0-9_./:=,@%+-]/;

/** The words of a command with quotes (no expansion), or the shell syntax it uses. */
export function commandWords(command: string): { words: string[] } | { syntax: string } {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      const end = command.indexOf(c, i + 1);
      if (end < 0) return { syntax: `an unclosed ${c}` };
      const inner = command.slice(i + 1, end);
      const bad = c === '"' ? /[$`\\\n\r]/.exec(inner) : /[\n\r]/.exec(inner);
      if (bad) return { syntax: JSON.stringify(bad[0]) };
      word = (word ?? '') + inner;
      i = end;
    } else if (PLAIN.test(c)) word = (word ?? '') + c;
    else return { syntax: JSON.stringify(c) };
  }
  if (word !== null) words.push(word);
  return { words };
}

/** The worker's policy: what a plan may reach. Built from the environment (`policyFromEnv`). */
export class WorkerPolicy {
  private readonly hosts: Array<HostPattern | '*'>;
  private readonly tokenEnvAllowed: (name: string) => boolean;
  private readonly commandPlaces: Place[] | '*';
  private readonly pathPlaces: Place[] | '*';
  private readonly commandEnvAllowed: (name: string) => boolean;
  /** Takes what looks like a secret out of text shown in status. */
  readonly redact: Redact;

  constructor(
    private readonly env: Env,
    private readonly cwd: string = process.cwd(),
  ) {
    this.hosts = list(this.setting('ROLLOUT_ALLOW_HOSTS')).map(parseHost);
    this.tokenEnvAllowed = nameMatcher(
      'ROLLOUT_ALLOW_TOKEN_ENV',
      list(this.setting('ROLLOUT_ALLOW_TOKEN_ENV')),
    );
    this.commandPlaces = places('ROLLOUT_ALLOW_COMMANDS', list(this.setting('ROLLOUT_ALLOW_COMMANDS')), cwd);
    this.pathPlaces = places('ROLLOUT_ALLOW_PATHS', list(this.setting('ROLLOUT_ALLOW_PATHS')), cwd);
    this.commandEnvAllowed = nameMatcher('ROLLOUT_COMMAND_ENV', list(this.setting('ROLLOUT_COMMAND_ENV')));
    this.redact = createRedactor(
      secretValues(env, (name) => this.tokenEnvAllowed(name) && !BASE_COMMAND_ENV.includes(name)),
    );
  }

  /** The variable's value, or its default when unset (set and empty means empty). */
  private setting(name: PolicyVariable): string {
    return this.env[name] ?? POLICY_DEFAULTS[name];
  }

  /** `NAME=value` as the messages show it, `(default)` marked. */
  private shown(name: PolicyVariable): string {
    const set = this.env[name] !== undefined;
    const value = this.setting(name);
    const text = name === 'ROLLOUT_ALLOW_PATHS' && !set ? this.cwd : value || '(empty)';
    return `${name}=${text}${set ? '' : ' (default)'}`;
  }

  /** One line for the worker's log. */
  describe(): string {
    const commands = this.setting('ROLLOUT_ALLOW_COMMANDS');
    return [
      `hosts ${this.setting('ROLLOUT_ALLOW_HOSTS') || 'none'}`,
      `tokenEnv ${this.setting('ROLLOUT_ALLOW_TOKEN_ENV') || 'none'}`,
      `commands ${commands === '' ? 'none' : commands}`,
      `paths ${this.pathPlaces === '*' ? '*' : this.pathPlaces.map((p) => p.path).join(',') || 'none'}`,
    ].join('; ');
  }

  hostProblem(url: string): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return `${PREFIX}: ${JSON.stringify(url)} is not a URL`;
    }
    const host = u.hostname.toLowerCase();
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const ok = this.hosts.some(
      (h) =>
        h === '*' ||
        ((h.host === host || (h.host.startsWith('*.') && host.endsWith(h.host.slice(1)))) &&
          (h.port === undefined || h.port === port)),
    );
    // Only host and port: a URL's path or query may carry a token of its own (a webhook's).
    return ok
      ? undefined
      : `${PREFIX}: ${host}:${port} is not an allowed host (${this.shown('ROLLOUT_ALLOW_HOSTS')})`;
  }

  tokenEnvProblem(name: string): string | undefined {
    return this.tokenEnvAllowed(name)
      ? undefined
      : `${PREFIX}: tokenEnv ${name} is not allowed (${this.shown('ROLLOUT_ALLOW_TOKEN_ENV')})`;
  }

  pathProblem(file: string): string | undefined {
    if (this.pathPlaces === '*') return undefined;
    const real = realPath(path.resolve(this.cwd, file));
    const why = outside(real, this.pathPlaces);
    if (!why) return undefined;
    return why.hidden
      ? `${PREFIX}: ${real} is below a hidden directory or file (${why.hidden}); list it in ROLLOUT_ALLOW_PATHS to allow it (${this.shown('ROLLOUT_ALLOW_PATHS')})`
      : `${PREFIX}: ${real} is not in an allowed directory (${this.shown('ROLLOUT_ALLOW_PATHS')})`;
  }

  /** The command checked and resolved, or why it is refused. */
  prepareCommand(command: string): PreparedCommand | { problem: string } {
    if (this.commandPlaces === '*') return { argv: null, text: command };
    if (this.commandPlaces.length === 0)
      return {
        problem: `${PREFIX}: commands are not allowed (${this.shown('ROLLOUT_ALLOW_COMMANDS')}: list the directories of the scripts plans may run)`,
      };
    const parsed = commandWords(command.trim());
    if ('syntax' in parsed)
      return {
        problem: `${PREFIX}: the command uses shell syntax (${parsed.syntax}), which runs more than one program: put it in a script in an allowed directory (${this.shown('ROLLOUT_ALLOW_COMMANDS')}), or trust every plan with any shell command (ROLLOUT_ALLOW_COMMANDS=*)`,
      };
    const [program, ...args] = parsed.words;
    if (!program) return { problem: `${PREFIX}: the command is empty` };
    const allowed = this.allowedProgram(program);
    return 'problem' in allowed ? allowed : { argv: [allowed.real, ...args], text: command };
  }

  /** Where `program` really is, when it is an executable file in an allowed directory. */
  private allowedProgram(program: string): { real: string } | { problem: string } {
    // Only asked once the caller has handled `*` (any program) and "none".
    const places = this.commandPlaces === '*' ? [] : this.commandPlaces;
    const found = this.locate(program);
    if (!found)
      return {
        problem: `${PREFIX}: ${program} is not an executable file (looked in ${program.includes('/') ? this.cwd : 'PATH'})`,
      };
    const real = realPath(found);
    if (outside(real, places))
      return {
        problem: `${PREFIX}: ${program} (${real}) is not in an allowed directory (${this.shown('ROLLOUT_ALLOW_COMMANDS')})`,
      };
    return { real };
  }

  commandProblem(command: string): string | undefined {
    const p = this.prepareCommand(command);
    return 'problem' in p ? p.problem : undefined;
  }

  /**
   * A command given as a list (program, arguments), checked and resolved. Its words are never read
   * by a shell, also with `ROLLOUT_ALLOW_COMMANDS=*` (which then allows any program).
   */
  prepareArgv(argv: readonly string[]): { argv: string[] } | { problem: string } {
    const [program, ...args] = argv;
    if (!program) return { problem: `${PREFIX}: the command is empty` };
    if (this.commandPlaces === '*') return { argv: [this.locate(program) ?? program, ...args] };
    if (this.commandPlaces.length === 0)
      return {
        problem: `${PREFIX}: commands are not allowed (${this.shown('ROLLOUT_ALLOW_COMMANDS')}: list the directories of the programs plans may run)`,
      };
    const allowed = this.allowedProgram(program);
    return 'problem' in allowed ? allowed : { argv: [allowed.real, ...args] };
  }

  argvProblem(argv: readonly string[]): string | undefined {
    const p = this.prepareArgv(argv);
    return 'problem' in p ? p.problem : undefined;
  }

  private locate(program: string): string | undefined {
    const candidates = program.includes('/')
      ? [path.resolve(this.cwd, program)]
      : (this.env.PATH ?? '')
          .split(':')
          .filter(Boolean)
          .map((d) => path.join(d, program));
    return candidates.find((c) => {
      try {
        accessSync(c, constants.X_OK);
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
  }

  /** What a command sees: the minimal environment, `ROLLOUT_COMMAND_ENV`'s variables and `extra`. */
  commandEnv(extra: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.env))
      if (v !== undefined && (BASE_COMMAND_ENV.includes(k) || this.commandEnvAllowed(k))) out[k] = v;
    out.PATH ??= '/usr/local/bin:/usr/bin:/bin';
    return { ...out, ...extra };
  }

  /**
   * Runs a plan's command as the policy allows it: the program of an allowed directory with its
   * words (no shell), or with `ROLLOUT_ALLOW_COMMANDS=*` the shell command; in both cases with
   * the minimal environment plus `extraEnv`, and its output redacted.
   */
  async runCommand(
    command: string,
    where: string,
    options: Omit<ShellOptions, 'env'> & { extraEnv?: Record<string, string> },
  ): Promise<ShellResult> {
    const prepared = this.prepareCommand(command);
    if ('problem' in prepared) throw permanent(`${where}: ${prepared.problem}`, POLICY_REFUSED);
    const { extraEnv, ...shell } = options;
    const res = await runShell(prepared.argv ?? command, { ...shell, env: this.commandEnv(extraEnv) });
    return { ...res, output: this.redact(res.output) };
  }

  /** `runCommand` for a command given as a list: the program run with its words, never a shell. */
  async runArgv(
    argv: readonly string[],
    where: string,
    options: Omit<ShellOptions, 'env'> & { extraEnv?: Record<string, string> },
  ): Promise<ShellResult> {
    const prepared = this.prepareArgv(argv);
    if ('problem' in prepared) throw permanent(`${where}: ${prepared.problem}`, POLICY_REFUSED);
    const { extraEnv, ...shell } = options;
    const res = await runShell(prepared.argv, { ...shell, env: this.commandEnv(extraEnv) });
    return {
      ...res,
      output: this.redact(res.output),
      ...(res.stdout === undefined ? {} : { stdout: this.redact(res.stdout) }),
    };
  }

  /** Throws the refusal (non-retryable) naming `where`, if any. */
  assert(problem: string | undefined, where: string): void {
    if (problem) throw permanent(`${where}: ${problem}`, POLICY_REFUSED);
  }

  /** Every use of a plan the policy refuses, with its path. */
  planProblems(plan: Pick<Plan, 'target' | 'phases'> & { notify?: Plan['notify'] }): PolicyProblem[] {
    return problemsOf(this.planNeeds(plan));
  }

  /** `planProblems`, each with what would allow it (`rollout init` prints the variables to set). */
  planNeeds(plan: Pick<Plan, 'target' | 'phases'> & { notify?: Plan['notify'] }): PolicyNeed[] {
    const out: PolicyNeed[] = [];
    const c = this.checks(out);
    const t = plan.target;
    c.host('target.baseUrl', t.baseUrl);
    out.push(...this.trafficNeeds(t.traffic));
    c.host('target.metrics.url', t.metrics.url);
    if (t.consistency) out.push(...this.consistencyNeeds(t.consistency));
    if (plan.notify?.webhookUrl) c.host('notify.webhookUrl', plan.notify.webhookUrl);
    plan.phases.forEach((ph, i) => {
      if (ph.command && checksOf(ph).includes('command'))
        c.command(`phases[${i}].command.run`, ph.command.run);
    });
    return out;
  }

  /**
   * The checks of a plan's uses, each adding its refusal to `out` with what would allow it: the
   * host (and port), the file's directory, the program's directory, the variable's name.
   */
  private checks(out: PolicyNeed[]) {
    const add = (where: string, message: string | undefined, allow: () => PolicyNeed['allow']) => {
      if (message) out.push({ path: where, message, allow: allow() });
    };
    const programDir = (program: string) => {
      const found = this.locate(program);
      if (found) return path.dirname(realPath(found));
      return program.includes('/')
        ? path.dirname(path.resolve(this.cwd, program))
        : `<the directory of ${program}>`;
    };
    return {
      host: (where: string, url: string) =>
        add(where, this.hostProblem(url), () => {
          try {
            const u = new URL(url);
            return {
              variable: 'ROLLOUT_ALLOW_HOSTS',
              value: u.port ? `${u.hostname}:${u.port}` : u.hostname,
            };
          } catch {
            return undefined;
          }
        }),
      path: (where: string, file: string) =>
        add(where, this.pathProblem(file), () => ({
          variable: 'ROLLOUT_ALLOW_PATHS',
          value: path.dirname(path.resolve(this.cwd, file)),
        })),
      argv: (where: string, argv: readonly string[]) =>
        add(where, this.argvProblem(argv), () =>
          argv[0] ? { variable: 'ROLLOUT_ALLOW_COMMANDS', value: programDir(argv[0]) } : undefined,
        ),
      command: (where: string, command: string) =>
        add(where, this.commandProblem(command), () => {
          const words = commandWords(command.trim());
          return 'words' in words && words.words[0]
            ? { variable: 'ROLLOUT_ALLOW_COMMANDS', value: programDir(words.words[0]) }
            : undefined;
        }),
      tokenEnv: (where: string, name: string) =>
        add(where, this.tokenEnvProblem(name), () => ({ variable: 'ROLLOUT_ALLOW_TOKEN_ENV', value: name })),
    };
  }

  trafficProblems(traffic: Plan['target']['traffic']): PolicyProblem[] {
    return problemsOf(this.trafficNeeds(traffic));
  }

  private trafficNeeds(traffic: Plan['target']['traffic']): PolicyNeed[] {
    const out: PolicyNeed[] = [];
    const c = this.checks(out);
    // A socket (`unix:/path`) is a file; anything else an address.
    const place = (where: string, at: string, scheme: string) =>
      at.startsWith('unix:') ? c.path(where, at.slice('unix:'.length)) : c.host(where, `${scheme}${at}`);
    if (traffic.type === 'http') {
      c.host('target.traffic.url', traffic.url);
      if (traffic.tokenEnv) c.tokenEnv('target.traffic.tokenEnv', traffic.tokenEnv);
    } else if (traffic.type === 'env-file') {
      c.path('target.traffic.path', traffic.path);
      c.command('target.traffic.restartCommand', traffic.restartCommand);
      c.host('target.traffic.healthUrl', traffic.healthUrl);
      if (traffic.readCommand) c.argv('target.traffic.readCommand', traffic.readCommand);
    } else if (traffic.type === 'haproxy') {
      const api = traffic.runtimeApi;
      place('target.traffic.runtimeApi', api.startsWith('tcp:') ? api.slice('tcp:'.length) : api, 'tcp://');
    } else if (traffic.type === 'nginx') {
      c.path('target.traffic.file', traffic.file);
      c.host('target.traffic.statusListen', `http://${traffic.statusListen}`);
      c.argv('target.traffic.testCommand', traffic.testCommand);
      c.argv('target.traffic.reloadCommand', traffic.reloadCommand);
      // nginx sends users' requests where the plan says: only to places the worker may reach itself.
      for (const [group, g] of Object.entries(traffic.groups))
        for (const side of ['legacy', 'domain'] as const)
          place(`target.traffic.groups.${group}.${side}`, g[side], 'http://');
    } else if (traffic.type === 'command') {
      c.argv('target.traffic.set', traffic.set);
      c.argv('target.traffic.read', traffic.read);
    }
    return out;
  }

  consistencyProblems(consistency: NonNullable<Plan['target']['consistency']>): PolicyProblem[] {
    return problemsOf(this.consistencyNeeds(consistency));
  }

  private consistencyNeeds(consistency: NonNullable<Plan['target']['consistency']>): PolicyNeed[] {
    const out: PolicyNeed[] = [];
    const c = this.checks(out);
    for (const key of ['database', 'yaml'] as const) c.path(`target.consistency.${key}`, consistency[key]);
    return out;
  }

  /** Throws the first of `problems` (non-retryable), naming its path. */
  refuse(problems: PolicyProblem[]): void {
    if (problems.length)
      throw permanent(problems.map((p) => `${p.path}: ${p.message}`).join('; '), POLICY_REFUSED);
  }

  /** A JSON-like value with every string redacted. */
  redactDeep<T>(value: T): T {
    return redactDeep(value, this.redact);
  }
}

/** The policy the environment sets (unset variables take their defaults). Throws on a malformed variable. */
export function policyFromEnv(env: Env, cwd: string = process.cwd()): WorkerPolicy {
  return new WorkerPolicy(env, cwd);
}

/** True for a refusal of the policy (a failure of type `RolloutPolicyRefused`). */
export function isPolicyRefusal(err: unknown): boolean {
  return (err as { type?: unknown } | null)?.type === POLICY_REFUSED;
}
