import express, { type Request } from 'express';
import type { z } from 'zod';
import { requireBearer } from './auth';
import { methodNotAllowed } from './error-reply';
import { fromZodError } from './errors';
import { FaultPatch, type Faults } from './faults';
import { jsonBody } from './json-body';
import type { BackendMetrics } from './metrics';
import { RolloutPatch, type Rollout } from './routing';

/** Admin bodies are a few switches; anything bigger is not a patch. */
const ADMIN_BODY_LIMIT = 16 * 1024;

function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const result = schema.safeParse(req.body);
  if (!result.success) throw fromZodError(result.error, 'body');
  return result.data;
}

/** `/admin/rollout` and `/admin/faults`: what the orchestrator and the demos change at run time. */
export function adminRouter(deps: { rollout: Rollout; faults: Faults; adminToken?: string }): express.Router {
  const router = express.Router();
  router.use(requireBearer(deps.adminToken));
  const json = jsonBody(ADMIN_BODY_LIMIT);

  router.get('/rollout', (_req, res) => {
    res.json(deps.rollout.get());
  });
  router.put('/rollout', ...json, (req, res) => {
    res.json(deps.rollout.apply(parseBody(RolloutPatch, req)));
  });
  router.all('/rollout', methodNotAllowed('/admin/rollout', ['GET', 'PUT']));

  router.get('/faults', (_req, res) => {
    res.json(deps.faults.get());
  });
  router.put('/faults', ...json, (req, res) => {
    res.json(deps.faults.apply(parseBody(FaultPatch, req)));
  });
  router.delete('/faults', (_req, res) => {
    res.json(deps.faults.clear());
  });
  router.all('/faults', methodNotAllowed('/admin/faults', ['GET', 'PUT', 'DELETE']));

  return router;
}

/**
 * What every example target serves besides its API: `/healthz`, `/metrics` and the admin routes
 * (the camera API and the test's orders service alike).
 */
export function mountOperations(
  app: express.Express,
  deps: { rollout: Rollout; faults: Faults; metrics: BackendMetrics; adminToken?: string },
): void {
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/metrics', (_req, res, next) => {
    deps.metrics.expose().then((text) => res.type(deps.metrics.contentType()).send(text), next);
  });
  app.use(
    '/admin',
    adminRouter({ rollout: deps.rollout, faults: deps.faults, adminToken: deps.adminToken || undefined }),
  );
}
