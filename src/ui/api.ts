/**
 * The rollout page's JSON API: the rollouts, one rollout with its plots, and the operators'
 * requests (sent as the same Updates the CLI sends). A client's mistake is a 4xx with a message
 * that names what is wrong; only the server's own failures are 5xx.
 */
import crypto from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { listRollouts, type RolloutRow } from '../client/rollout-list';
import { CliError, EXIT } from '../client/errors';
import { findRollout, hasStatus, readStatus, type OpenTemporal } from '../client/connect';
import { VERB_OPTIONS, stateOption, targetIdOption, workflowIdOption } from '../client/options';
import { requestCommand } from '../client/commands';
import {
  SIGNAL_NAMES,
  summaryOf,
  summaryQuery,
  type RolloutStatus,
  type RolloutSummary,
  type SignalName,
} from '../contracts/definitions';
import { plotData } from './plot-data';

/** What the API needs: a Temporal connection (opened on first use) and the page's token. */
export interface ApiDeps {
  temporal(): Promise<OpenTemporal>;
  /**
   * Every read and request needs `Authorization: Bearer <token>`: a rollout's status carries its
   * whole plan (webhook URLs, hosts, commands). `null` lets anyone read and act.
   */
  token: string | null;
}

/** A list row with what the rollout's `status` adds for a running one. */
export interface ListEntry extends RolloutRow {
  groups: Record<string, { percent: number; state: string }> | null;
  windowRemainingMs: number | null;
  lastVerdict: string | null;
  awaiting: string | null;
}

/** An answer that is the client's doing: its HTTP status and the message the page shows. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

const HTTP_OF_EXIT: Record<number, number> = {
  [EXIT.refused]: 409,
  [EXIT.invalid]: 400,
  [EXIT.notFound]: 404,
  [EXIT.unreachable]: 503,
};

const listQuerySchema = z.strictObject({
  state: stateOption.optional(),
  target: targetIdOption.optional(),
  running: z.enum(['true', 'false']).optional(),
});

/** The body of each request: the signal's payload (SPEC §3), strict. */
const ACTION_BODIES = {
  approve: VERB_OPTIONS.approve,
  pause: VERB_OPTIONS.pause,
  resume: VERB_OPTIONS.resume,
  rollback: VERB_OPTIONS.rollback,
  complete: VERB_OPTIONS.complete,
} as const satisfies Record<SignalName, z.ZodType>;

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => `${where}.${k}: not a field of this request`)
      : [`${where}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`],
  );
  throw new HttpError(400, lines[0], lines.slice(1));
}

const idOf = (req: Request) => parse(workflowIdOption, req.params.id, 'rollout id');

/** Equal-time compare, so the token cannot be guessed a character at a time. */
function sameToken(given: string, token: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

function requireToken(token: string | null, req: Request, what = 'this action'): void {
  if (token === null) return;
  const header = req.get('authorization') ?? '';
  const m = /^Bearer (.+)$/.exec(header);
  if (!m)
    throw new HttpError(
      401,
      `${what} needs the page token: open the address \`npx rollout ui\` printed (it ends in ?token=…) or enter the token in the token field`,
    );
  if (!sameToken(m[1], token))
    throw new HttpError(
      403,
      what === 'this action' ? 'wrong page token: nothing was sent to the rollout' : 'wrong page token',
    );
}

/** Reads need the token too (checked before Temporal is asked anything). */
function readGuard(deps: ApiDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      requireToken(deps.token, req, 'reading rollouts');
      next();
    } catch (err) {
      sendError(res, err);
    }
  };
}

/** Runs `fn(t)` and answers with its JSON, or with the error's status and message. */
function handler(deps: ApiDeps, fn: (t: OpenTemporal, req: Request) => Promise<unknown>) {
  return async (req: Request, res: Response) => {
    try {
      const t = await deps.temporal();
      res.json(await fn(t, req));
    } catch (err) {
      sendError(res, err);
    }
  };
}

function sendError(res: Response, err: unknown): void {
  if (err instanceof HttpError) {
    res.status(err.status).json({ error: err.message, details: err.details });
    return;
  }
  if (err instanceof CliError) {
    res.status(HTTP_OF_EXIT[err.code] ?? 500).json({ error: err.message, details: err.details });
    return;
  }
  res
    .status(500)
    .json({ error: `the rollout page failed: ${err instanceof Error ? err.message : String(err)}` });
}

/**
 * What the list adds from a rollout's status; nothing when it does not answer in time. A closed
 * run's result never changes, so it is read once per run (`ended`), not at every poll.
 */
async function enrich(
  t: OpenTemporal,
  row: RolloutRow,
  ended: Map<string, RolloutSummary>,
): Promise<ListEntry> {
  const entry: ListEntry = {
    ...row,
    groups: null,
    windowRemainingMs: null,
    lastVerdict: null,
    awaiting: null,
  };
  try {
    if (row.workflowStatus === 'RUNNING') {
      // The lean query: a few hundred bytes, not the whole status with its plan and evidence.
      const s = await t.timed(5000, () => t.client.workflow.getHandle(row.id).query(summaryQuery));
      Object.assign(entry, {
        groups: s.groups,
        windowRemainingMs: s.windowRemainingMs,
        lastVerdict: s.lastVerdict,
        awaiting: s.awaiting,
      });
    } else if (row.workflowStatus === 'COMPLETED') {
      let s = ended.get(row.runId) ?? null;
      if (!s) {
        const handle = t.client.workflow.getHandle(row.id, row.runId);
        s = summaryOf((await t.timed(5000, () => handle.result())) as RolloutStatus);
        ended.set(row.runId, s);
      }
      Object.assign(entry, {
        groups: s.groups,
        windowRemainingMs: s.windowRemainingMs,
        lastVerdict: s.lastVerdict,
        awaiting: s.awaiting,
      });
    }
  } catch {
    // A rollout without a worker still gets its row, from the search attributes.
  }
  return entry;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** The routes under `/api`. */
export function apiRouter(deps: ApiDeps): express.Router {
  const api = express.Router();
  const ended = new Map<string, RolloutSummary>();
  api.use(express.json({ limit: '16kb', strict: true, type: () => true }));

  api.get('/config', (_req, res) => {
    res.json({ tokenRequired: deps.token !== null });
  });

  api.get(
    '/rollouts',
    readGuard(deps),
    handler(deps, async (t, req) => {
      const q = parse(listQuerySchema, req.query, 'query');
      const rows = await t.timed(20_000, () =>
        listRollouts(t.client, { state: q.state, target: q.target, running: q.running === 'true' }, 50),
      );
      return { rollouts: await mapLimited(rows, 6, (row) => enrich(t, row, ended)) };
    }),
  );

  api.get(
    '/rollouts/:id',
    readGuard(deps),
    handler(deps, async (t, req) => {
      const rollout = await findRollout(t, idOf(req));
      const s = await readStatus(t, rollout);
      const workflow = {
        id: rollout.id,
        runId: rollout.description.runId,
        status: rollout.description.status.name,
        startedAt: rollout.description.startTime.toISOString(),
        closedAt: rollout.description.closeTime?.toISOString() ?? null,
      };
      if (!hasStatus(s)) return { workflow, status: null, error: s.error, plots: [] };
      return { workflow, status: s, error: null, plots: plotData(s) };
    }),
  );

  api.post(
    '/rollouts/:id/:action',
    handler(deps, async (t, req) => {
      const action = req.params.action;
      if (!(SIGNAL_NAMES as readonly string[]).includes(action))
        throw new HttpError(404, `unknown action "${action}": one of ${SIGNAL_NAMES.join(', ')}`);
      requireToken(deps.token, req);
      const name = action as SignalName;
      const id = idOf(req);
      const body = parse(
        ACTION_BODIES[name] as z.ZodType<{ by: string } & Record<string, unknown>>,
        req.body ?? {},
        'body',
      );
      return requestCommand(t, id, name, body);
    }),
  );

  api.use((req, res) => {
    res.status(404).json({ error: `no such API route: ${req.method} ${req.baseUrl}${req.path}` });
  });
  // express.json's failures (a body that is not JSON, too large) are the client's.
  api.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed')
      sendError(res, new HttpError(400, `body: not valid JSON (${e.message})`));
    else if (e.type === 'entity.too.large') sendError(res, new HttpError(413, 'body: larger than 16 KiB'));
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      sendError(res, new HttpError(e.status, e.message ?? 'bad request'));
    else sendError(res, err);
  });
  return api;
}
