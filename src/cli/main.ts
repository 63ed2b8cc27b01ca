import { Command, CommanderError } from 'commander';
import { EXIT } from '../client/errors';
/** Adds one verb to the program. */
export type Register = (program: Command) => void;

/**
 * Verb → its file. Only the verb being run is loaded (start-up time is what an operator waits
 * for at every command); help loads them all. Each verb checks its options (options.ts) before it
 * imports what connects or reads a plan (`await import`): a mistake is reported in about a second
 * and before anything is contacted.
 */
const VERBS: Record<string, () => Register> = {
  start: () => require('./start').register,
  status: () => require('./status').register,
  watch: () => require('./watch').register,
  approve: () => require('./approve').register,
  pause: () => require('./pause').register,
  resume: () => require('./resume').register,
  rollback: () => require('./rollback').register,
  complete: () => require('./complete').register,
  list: () => require('./list').register,
  history: () => require('./history').register,
  verify: () => require('./verify').register,
  init: () => require('./init').register,
  setup: () => require('./setup').register,
  simulate: () => require('./simulate').register,
  ui: () => require('../ui/verb').register,
};

export function buildProgram(only?: string, extra: Record<string, () => Register> = {}): Command {
  const program = new Command('rollout')
    .description(
      'Staged canary rollouts on Temporal. Connection from TEMPORAL_ADDRESS (default 127.0.0.1:7233), ' +
        'TEMPORAL_NAMESPACE (default "default"), TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH + TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_PROFILE (as the temporal CLI).',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const [verb, load] of Object.entries({ ...VERBS, ...extra })) if (!only || only === verb) load()(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 refused or failed, 2 invalid plan or options, 3 unknown rollout,
4 Temporal unreachable or timed out, 5 (verify) hold or inconclusive.

Try:  npx rollout start plans/phase2-3.yaml --time-scale 60
      npx rollout list              (then watch one: npx rollout watch <id>)`,
  );
  return program;
}

/**
 * Runs the CLI; resolves to the exit code. `extra` adds verbs from outside `cli/` (the rollout
 * page's `ui`, which `bin/rollout.js` brings: cli/ and ui/ do not import each other).
 */
export async function run(argv: string[], extra: Record<string, () => Register> = {}): Promise<number> {
  const verb = argv.slice(2).find((a) => !a.startsWith('-'));
  const program = buildProgram(verb && (verb in VERBS || verb in extra) ? verb : undefined, extra);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; usage mistakes are "invalid input".
      return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    throw err;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}
