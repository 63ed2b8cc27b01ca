import type { Command } from 'commander';
import { action, out } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';
import { fmtDuration, fmtEvidence, fmtMetrics, fmtTime, pausedMs, reasonParts, table } from './format';

export function register(program: Command): void {
  program
    .command('history')
    .description('every step with its window, verdict, figures and who approved; approvals and rollback')
    .argument('<id>', 'rollout id or target id')
    .option('--json', 'the history entries as JSON')
    .action(
      action(async (rawId: string, raw: unknown) => {
        const idOrTarget = parseArgument('<id>', workflowIdOption, rawId);
        const o = parseOptions('history', raw);
        const { findRollout, hasStatus, readStatus, withTemporal } = await import('../client/connect');
        return withTemporal(async (t) => {
          const rollout = await findRollout(t, idOrTarget);
          const s = await readStatus(t, rollout);
          if (!hasStatus(s)) {
            if (o.json) out.line(JSON.stringify({ history: [], error: s.error }, null, 2));
            else out.line(`${s.rolloutId} failed before any step: ${s.error}`);
            return;
          }
          if (o.json) {
            out.line(
              JSON.stringify(
                { rolloutId: s.rolloutId, state: s.state, history: s.history, rollback: s.rollback },
                null,
                2,
              ),
            );
            return;
          }
          // Time the step ran, paused time left out (and said).
          const actual = (startedAt: string, endedAt: string | null) => {
            const from = Date.parse(startedAt);
            const to = endedAt ? Date.parse(endedAt) : Date.now();
            const paused = pausedMs(s.events, from, to);
            return `${fmtDuration(to - from - paused)}${paused > 0 ? ` (+${fmtDuration(paused)} paused)` : ''}`;
          };
          out.line(`${s.rolloutId}  ${s.plan.name}  state ${s.state}`);
          if (s.history.length === 0) out.line('no step started yet');
          else {
            out.line(
              table(
                ['PHASE', 'PERCENT', 'STARTED', 'ENDED', 'WINDOW', 'ACTUAL', 'VERDICT', 'OUTCOME', 'BY'],
                s.history.map((h) => [
                  h.phase,
                  `${h.percent}%`,
                  fmtTime(h.startedAt),
                  h.endedAt ? fmtTime(h.endedAt) : 'running',
                  h.windowMs === null ? 'continuous' : fmtDuration(h.windowMs),
                  actual(h.startedAt, h.endedAt),
                  h.verdict ?? '—',
                  h.outcome ?? '—',
                  h.by ?? '',
                ]),
              ),
            );
            out.line('');
            for (const h of s.history) {
              const figures = fmtMetrics(h.metrics);
              const evidence = fmtEvidence(h.evidence);
              if (!figures && !h.reason && !evidence) continue;
              out.line(`${h.phase} ${h.percent}%:`);
              if (figures) out.line(`  ${figures}`);
              if (evidence) out.line(`  ${evidence}`);
              if (h.reason) for (const r of reasonParts(h.reason)) out.line(`  - ${r}`);
            }
          }
          const decisions = s.events.filter((e) => e.kind === 'signal' && e.accepted);
          if (decisions.length) {
            out.line('decisions:');
            for (const e of decisions) out.line(`  ${fmtTime(e.at)} ${e.message} (by ${e.by})`);
          }
          if (s.rollback) {
            const r = s.rollback;
            out.line(
              `rollback: ${r.trigger}${r.by ? ` by ${r.by}` : ''} at ${fmtTime(r.at)}, reverted ${r.groups.join(', ')}` +
                `${r.completedAt ? `, confirmed ${fmtTime(r.completedAt)}` : ' (in progress)'}: ${r.reason}`,
            );
          }
        });
      }),
    );
}
