import { z } from 'zod';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { methodNotAllowed } from './error-reply';
import { ApiError, fromZodError } from './errors';
import type { Faults } from './faults';
import type { CameraApi } from './implementation';
import type { BackendMetrics } from './metrics';
import type { Rollout, RoutingDecision } from './routing';
import { jsonBody } from './json-body';
import { CameraCreate, CameraId, CameraUpdate, HistoryQuery, type Group, type Impl } from './schemas';
import type { WriteOptions } from './store';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Outcome {
  status: number;
  body?: unknown;
}

interface RouteSpec {
  method: Method;
  /** The label value in metrics, as the plan names the endpoint. */
  template: string;
  group: Group;
  handle(api: CameraApi, req: Request, write: WriteOptions): Outcome;
}

/** Locals every API request carries once routed. */
interface ApiLocals {
  decision: RoutingDecision;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, root: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, root);
  return result.data;
}

export const API_ROUTES: RouteSpec[] = [
  {
    method: 'GET',
    template: '/api/v1/system/info',
    group: 'read',
    handle: (api) => ({ status: 200, body: api.systemInfo() }),
  },
  {
    method: 'GET',
    template: '/api/v1/alerts/history-db',
    group: 'read',
    handle: (api, req) => ({
      status: 200,
      body: api.alertHistory(parse(HistoryQuery, req.query, 'query').limit),
    }),
  },
  {
    method: 'GET',
    template: '/api/v1/alerts/rules',
    group: 'read',
    handle: (api) => ({ status: 200, body: api.alertRules() }),
  },
  {
    method: 'GET',
    template: '/api/v1/cameras',
    group: 'read',
    handle: (api) => ({ status: 200, body: api.listCameras() }),
  },
  {
    method: 'POST',
    template: '/api/v1/cameras',
    group: 'write',
    handle: (api, req, write) => ({
      status: 201,
      body: api.createCamera(parse(CameraCreate, req.body, 'body'), write),
    }),
  },
  {
    method: 'PUT',
    template: '/api/v1/cameras/{camera_id}',
    group: 'write',
    handle: (api, req, write) => ({
      status: 200,
      body: api.updateCamera(
        parse(CameraId, req.params.camera_id, 'camera_id'),
        parse(CameraUpdate, req.body, 'body'),
        write,
      ),
    }),
  },
  {
    method: 'DELETE',
    template: '/api/v1/cameras/{camera_id}',
    group: 'write',
    handle: (api, req, write) => {
      api.deleteCamera(parse(CameraId, req.params.camera_id, 'camera_id'), write);
      return { status: 204 };
    },
  },
];

/** A camera at its longest is a few KB, ~30 KB with every character \u-escaped. */
const API_BODY_LIMIT = 100 * 1024;

function header(req: Request, name: string): string | undefined {
  const value = req.get(name);
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ApiDeps {
  rollout: Rollout;
  faults: Faults;
  metrics: BackendMetrics;
  apis: Record<Impl, CameraApi>;
}

/** The seven endpoints: route → pick an implementation → faults → validate → implementation. */
export function apiRouter(deps: ApiDeps): express.Router {
  const router = express.Router();
  const json = jsonBody(API_BODY_LIMIT);

  for (const spec of API_ROUTES) {
    const routeRequest: RequestHandler = (req, res, next) => {
      const started = process.hrtime.bigint();
      const decision = deps.rollout.decide(spec.group, {
        force: header(req, 'X-Rollout-Force'),
        key: header(req, 'X-Rollout-Key'),
      });
      (res.locals as ApiLocals).decision = decision;
      res.set('X-Served-By', decision.impl);
      res.on('finish', () => {
        deps.metrics.record({
          route: spec.template,
          method: spec.method,
          impl: decision.impl,
          status: res.statusCode,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
          forced: decision.forced,
        });
      });
      next();
    };

    // Faults hit forced requests too: a probe must see the broken implementation it asked for.
    const injectFaults: RequestHandler = (req, res, next) => {
      const faults = deps.faults.for((res.locals as ApiLocals).decision.impl);
      const go = () => {
        if (res.writableEnded || req.socket.destroyed) return;
        if (faults.errorRate > 0 && Math.random() < faults.errorRate) {
          res.status(500).json({ error: 'injected fault' });
          return;
        }
        next();
      };
      if (faults.latencyMs > 0) sleep(faults.latencyMs).then(go).catch(next);
      else go();
    };

    const handle: RequestHandler = (req, res) => {
      const { decision } = res.locals as ApiLocals;
      const write: WriteOptions = {
        skipYaml: deps.faults.for(decision.impl).yamlDesync,
        injectFailure: spec.group === 'write' ? injectedFailure(req, decision) : undefined,
      };
      const outcome = spec.handle(deps.apis[decision.impl], req, write);
      if (outcome.body === undefined) res.status(outcome.status).end();
      else res.status(outcome.status).json(outcome.body);
    };

    const path = spec.template.replace(/\{(\w+)\}/g, ':$1');
    // Only POST and PUT take a body; a DELETE's would be ignored, as HTTP allows.
    const chain =
      spec.method === 'POST' || spec.method === 'PUT'
        ? [routeRequest, injectFaults, ...json, handle]
        : [routeRequest, injectFaults, handle];
    router[spec.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path, ...chain);
  }

  const methods = new Map<string, { template: string; allowed: Method[] }>();
  for (const spec of API_ROUTES) {
    const path = spec.template.replace(/\{(\w+)\}/g, ':$1');
    const entry = methods.get(path) ?? { template: spec.template, allowed: [] };
    entry.allowed.push(spec.method);
    methods.set(path, entry);
  }
  for (const [path, { template, allowed }] of methods) router.all(path, methodNotAllowed(template, allowed));

  // Unknown API paths: the legacy monolith has always answered those.
  router.all('/api/*', (req: Request, res: Response, next: NextFunction) => {
    res.set('X-Served-By', 'legacy');
    next(new ApiError(404, `no route for ${req.method} ${req.path}`));
  });
  return router;
}

/** Failure injection is a probe's tool: honoured only together with `X-Rollout-Force`. */
function injectedFailure(req: Request, decision: RoutingDecision): 'yaml' | 'db' | undefined {
  const value = header(req, 'X-Rollout-Inject-Failure')?.toLowerCase();
  if (value === undefined) return undefined;
  if (!decision.forced) {
    throw new ApiError(
      400,
      'X-Rollout-Inject-Failure: only allowed together with X-Rollout-Force',
      'X-Rollout-Inject-Failure',
    );
  }
  if (value !== 'yaml' && value !== 'db') {
    throw new ApiError(400, 'X-Rollout-Inject-Failure: must be yaml or db', 'X-Rollout-Inject-Failure');
  }
  return value;
}
