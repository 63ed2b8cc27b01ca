import express, { type Request } from 'express';
import type { z } from 'zod';
import { requireBearer } from './auth';
import { fromZodError } from './errors';
import { FaultPatch, type Faults } from './faults';
import { RolloutPatch, type Rollout } from './routing';

function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const result = schema.safeParse(req.body);
  if (!result.success) throw fromZodError(result.error, 'body');
  return result.data;
}

/** `/admin/rollout` and `/admin/faults`: what the orchestrator and the demos change at run time. */
export function adminRouter(deps: { rollout: Rollout; faults: Faults; adminToken?: string }): express.Router {
  const router = express.Router();
  router.use(requireBearer(deps.adminToken));
  router.use(express.json({ limit: '16kb', strict: false }));

  router.get('/rollout', (_req, res) => {
    res.json(deps.rollout.get());
  });
  router.put('/rollout', (req, res) => {
    res.json(deps.rollout.apply(parseBody(RolloutPatch, req)));
  });

  router.get('/faults', (_req, res) => {
    res.json(deps.faults.get());
  });
  router.put('/faults', (req, res) => {
    res.json(deps.faults.apply(parseBody(FaultPatch, req)));
  });
  router.delete('/faults', (_req, res) => {
    res.json(deps.faults.clear());
  });

  return router;
}
