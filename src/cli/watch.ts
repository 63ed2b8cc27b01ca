import type { Command } from 'commander';
import { TERMINAL_STATES, type RolloutEvent, type RolloutStatus } from '../contracts/definitions';
import { action, out } from '../client/action';
import type { Temporal } from '../client/connect';
import { CliError, EXIT } from '../client/errors';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';
import { fmtEvent, fmtMetrics, fmtTime, nextCommand, phaseLines, renderStatus, windowLine } from './format';
import { newEvents } from '../client/commands';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The TTY frame: redrawn in place every interval. */
function frame(s: RolloutStatus, events: RolloutEvent[], now = Date.now()): string {
  const lines = [`${s.rolloutId}  ${s.plan.name}  ${fmtTime(new Date(now).toISOString())}`, ''];
  lines.push(`state  ${s.state}${s.phase ? ` — ${s.phase} at ${s.percent}%` : ''}`);
  const w = windowLine(s, now);
  if (w) lines.push(`       ${w}`);
  lines.push('');
  for (const l of phaseLines(s, 30)) lines.push(l);
  lines.push('');
  if (s.lastCheck) {
    lines.push(`last check ${fmtTime(s.lastCheck.at)} ${s.lastCheck.group}: ${s.lastCheck.verdict}`);
    const f = fmtMetrics(s.lastCheck.metrics);
    if (f) lines.push(`  ${f}`);
    for (const r of s.lastCheck.reasons.slice(0, 3)) lines.push(`  - ${r}`);
  }
  if (s.awaiting) lines.push('', `WAITING for ${s.awaiting.kind}: ${s.awaiting.prompt}`);
  const next = nextCommand(s);
  if (next) lines.push(`next: ${next}`);
  if (s.rollback) lines.push('', `ROLLBACK ${s.rollback.trigger}: ${s.rollback.reason}`);
  lines.push('', 'recent events:');
  for (const e of events.slice(-10)) lines.push(`  ${fmtEvent(e)}`);
  lines.push('', 'Ctrl-C stops watching (the rollout goes on)');
  return lines.join('\n');
}

/** A one-line progress report for logs: phase, percent, window countdown, latest figures. */
function progressLine(s: RolloutStatus, now = Date.now()): string {
  const parts = [`${fmtTime(new Date(now).toISOString())}  status  ${s.state}`];
  if (s.phase) parts.push(`${s.phase} ${s.percent}%`);
  const w = windowLine(s, now);
  if (w) parts.push(w.replace(/ \(ends .*\)$/, ''));
  if (s.lastCheck) {
    const f = fmtMetrics(s.lastCheck.metrics);
    parts.push(`last check ${s.lastCheck.verdict}${f ? `: ${f}` : ''}`);
  }
  return parts.join(' | ');
}

async function poll(
  t: Temporal,
  id: string,
): Promise<{ running: boolean; status: RolloutStatus | null; error?: string }> {
  const { findRollout, hasStatus, readStatus } = await import('../client/connect');
  const r = await findRollout(t, id);
  const s = await readStatus(t, r);
  if (!hasStatus(s)) return { running: false, status: null, error: s.error };
  return { running: r.description.status.name === 'RUNNING', status: s };
}

export function register(program: Command): void {
  program
    .command('watch')
    .description(
      'live view: progress per phase, window countdown, latest figures, state changes as they happen; ends with the rollout',
    )
    .argument('<id>', 'rollout id or target id')
    .option('--interval <seconds>', 'refresh every N seconds', '1')
    .option('--plain', 'log lines instead of a redrawn screen (the default when output is not a terminal)')
    .option('--exit-status', 'exit 1 unless the rollout completed')
    .action(
      action(async (rawId: string, raw: unknown) => {
        const idOrTarget = parseArgument('<id>', workflowIdOption, rawId);
        const o = parseOptions('watch', raw);
        const intervalMs = o.interval * 1000;
        const tty = process.stdout.isTTY && !o.plain;
        const { findRollout, withTemporal } = await import('../client/connect');
        return withTemporal(async (t) => {
          const rollout = await findRollout(t, idOrTarget);
          const id = rollout.id;
          let seen: RolloutEvent[] = [];
          let last: RolloutStatus | null = null;
          let lastProgress = 0;
          let lastKey = '';
          let lastWait: string | null = null;
          let failing = false;
          for (;;) {
            let p: Awaited<ReturnType<typeof poll>>;
            try {
              p = await poll(t, id);
              if (failing) out.line(`${fmtTime(new Date().toISOString())}  (connection back)`);
              failing = false;
            } catch (err) {
              if (err instanceof CliError && err.code === EXIT.notFound) throw err;
              if (!failing)
                out.line(
                  `${fmtTime(new Date().toISOString())}  (cannot read the status: ${(err as Error).message}; retrying)`,
                );
              failing = true;
              await sleep(Math.max(intervalMs, 2000));
              continue;
            }
            if (!p.status) {
              out.line(`${id} failed: ${p.error}`);
              return o.exitStatus ? EXIT.refused : EXIT.ok;
            }
            const s = p.status;
            const fresh = newEvents(seen, s.events);
            seen = s.events;
            if (tty) {
              process.stdout.write(`\x1b[2J\x1b[H${frame(s, s.events)}\n`);
            } else {
              if (!last) out.line(renderStatus(s));
              for (const e of fresh)
                if (last || s.events.length - fresh.indexOf(e) <= 5) out.line(fmtEvent(e));
              const key = `${s.phase}|${s.percent}|${s.lastCheck?.verdict}`;
              const now = Date.now();
              if (last && (key !== lastKey || now - lastProgress >= 15_000)) {
                out.line(progressLine(s, now));
                lastProgress = now;
              }
              lastKey = key;
              // What to run next, once each time the rollout starts waiting for someone.
              const next = nextCommand(s);
              const waitKey = next ? `${s.awaiting?.kind}|${s.awaiting?.since}|${s.state}` : null;
              if (last && next && waitKey !== lastWait) out.line(`next: ${next}`);
              lastWait = waitKey;
            }
            last = s;
            if (!p.running || (TERMINAL_STATES.includes(s.state) && !p.running)) {
              if (tty) process.stdout.write('\n');
              out.line('');
              out.line(`rollout ended: ${s.state}`);
              out.line(renderStatus(s));
              return o.exitStatus && s.state !== 'completed' ? EXIT.refused : EXIT.ok;
            }
            await sleep(intervalMs);
          }
        });
      }),
    );
}
