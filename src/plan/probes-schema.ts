import { z } from 'zod';
import { parseJsonPath } from '../probes/json-path';
import { endpoint, personName, text } from './fields';
import { LIMITS } from './limits';

/**
 * `target.probes`: how the functional check and the write probe exercise the target. The shape
 * is checked here; what spans fields (captures made before use, schemas that compile, every
 * write endpoint covered) is checked in probe-rules.ts.
 */

const jsonPath = text(LIMITS.stringLength).superRefine((path, ctx) => {
  const parsed = parseJsonPath(path);
  if (!Array.isArray(parsed)) ctx.addIssue({ code: 'custom', message: `not a JSON path: ${parsed.error}` });
});

const variableName = z
  .string()
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a name like id or order_id');

/** `200`, or a class: `2xx` (the default), `4xx`, `5xx`. */
const status = z
  .union([z.number().int().min(100).max(599), z.enum(['2xx', '3xx', '4xx', '5xx'])], {
    error: 'must be a status like 201, or a class: 2xx, 4xx or 5xx',
  })
  .default('2xx');

const jsonSchema = z.record(z.string(), z.unknown(), { error: 'must be a JSON Schema (a mapping)' });

/** A schema's name in `target.probes.schemas`, or a JSON Schema written in place. */
const schemaRef = z.union([variableName, jsonSchema], {
  error: 'must name a schema of target.probes.schemas or be a JSON Schema',
});

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .refine((h) => h.toLowerCase() !== 'x-rollout-force', {
    message: 'X-Rollout-Force is set by the orchestrator (each probe goes through both implementations)',
  });
const headers = z.record(headerName, text(LIMITS.stringLength));

const scalar = z.union([z.string().max(LIMITS.stringLength), z.number(), z.boolean()], {
  error: 'must be a string, number or true/false',
});

const paramSource = z.union(
  [
    z.union([text(LIMITS.stringLength), z.number()]),
    z.strictObject({
      /** A GET whose answer holds the value, called through legacy (the proven side). */
      from: endpoint,
      pick: jsonPath,
    }),
  ],
  { error: 'must be a fixed value or { from: "GET /path", pick: "$.items[0].id" }' },
);

const readProbe = z.strictObject({
  request: endpoint,
  /** Values for the route's `{name}` parameters. */
  params: z.record(variableName, paramSource).default({}),
  headers: headers.optional(),
  status,
  schema: schemaRef.optional(),
});

const PROBE_CHECKS = ['functional', 'writeProbe'] as const;

const writeStep = z.strictObject({
  /** How the step reads in reports (`create`); the request when absent. */
  name: personName.optional(),
  request: endpoint,
  body: z.unknown().optional(),
  headers: headers.optional(),
  status,
  schema: schemaRef.optional(),
  /** Values taken from the answer for later steps: `{ id: $.id }`. */
  capture: z.record(variableName, jsonPath).optional(),
  /** The answer carries every field the body sent, with the sent values. */
  echo: z.boolean().default(false),
  /**
   * What the write probe then expects of the record in the stores and both implementations'
   * listings: the sent fields (over what was there), no change, or no record at all.
   */
  stored: z.enum(['sent', 'unchanged', 'gone']).optional(),
  /** Which record `stored` is about: its id (`${id}`), or a field that holds a value. */
  record: z
    .union([text(LIMITS.stringLength), z.strictObject({ field: variableName, equals: scalar })])
    .optional(),
  /** The checks that run this step; both by default. */
  checks: z.array(z.enum(PROBE_CHECKS)).min(1, 'must name functional, writeProbe or both').optional(),
});

const writeLifecycle = z.strictObject({
  name: personName,
  /** Where the records are listed: leftovers are found here, and each step's record is checked here. */
  list: z.strictObject({ request: endpoint, items: jsonPath, id: jsonPath }),
  /** What every probe record carries, so a leftover of a crashed probe can be found and removed. */
  marker: z.strictObject({ field: jsonPath, value: scalar }),
  /** Removes one record; its one `{parameter}` is the record's id. */
  cleanup: endpoint,
  /** `consistency`: also look each record up in both stores of `target.consistency`. */
  lookup: z.enum(['consistency']).optional(),
  steps: z
    .array(writeStep)
    .min(1, 'must have at least one step')
    .max(LIMITS.steps, `must have at most ${LIMITS.steps} steps`),
});

export const probesSchema = z.strictObject({
  /** JSON Schemas by name, used by `schema: name` and by `$ref: name`. */
  schemas: z.record(variableName, jsonSchema).default({}),
  reads: z.array(readProbe).max(LIMITS.endpoints, `must list at most ${LIMITS.endpoints} probes`).default([]),
  writes: z
    .array(writeLifecycle)
    .max(LIMITS.phases, `must list at most ${LIMITS.phases} lifecycles`)
    .default([]),
});

export type Probes = z.output<typeof probesSchema>;
export type ReadProbe = Probes['reads'][number];
export type WriteLifecycle = Probes['writes'][number];
export type WriteStep = WriteLifecycle['steps'][number];
export type ProbeCheck = (typeof PROBE_CHECKS)[number];
export const PROBE_CHECK_NAMES: readonly ProbeCheck[] = PROBE_CHECKS;
