import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The JSON Schemas of a plan's probes, compiled with ajv (strict: an unknown keyword is a mistake
 * in the plan, not an extension). Named schemas (`target.probes.schemas`) can be used by name
 * from a probe and by `$ref: name` from another schema.
 */

/** A probe's `schema`: the name of one in `target.probes.schemas`, or a schema written in place. */
export type SchemaRef = string | Record<string, unknown>;

export class ProbeSchemas {
  private readonly ajv: Ajv;
  private readonly inline = new Map<string, ValidateFunction>();

  /** Throws `SchemaError` naming the schema when one does not compile. */
  constructor(readonly named: Readonly<Record<string, Record<string, unknown>>> = {}) {
    this.ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(this.ajv);
    for (const [name, schema] of Object.entries(named)) {
      try {
        this.ajv.addSchema(schema, name);
      } catch (err) {
        throw new SchemaError(name, err);
      }
    }
    // Compiled only once all are added: one may $ref another written after it.
    for (const name of Object.keys(named)) {
      try {
        this.ajv.getSchema(name);
      } catch (err) {
        throw new SchemaError(name, err);
      }
    }
  }

  /** The compiled schema; throws `SchemaError` for an unknown name or a schema that does not compile. */
  compile(ref: SchemaRef): ValidateFunction {
    if (typeof ref === 'string') {
      if (!Object.prototype.hasOwnProperty.call(this.named, ref)) {
        const names = Object.keys(this.named);
        throw new SchemaError(
          ref,
          `no schema named "${ref}" in target.probes.schemas (${names.length ? `named: ${names.join(', ')}` : 'none is named'})`,
        );
      }
      return this.ajv.getSchema(ref)!;
    }
    const key = JSON.stringify(ref);
    let fn = this.inline.get(key);
    if (!fn) {
      try {
        fn = this.ajv.compile(ref);
      } catch (err) {
        throw new SchemaError('(inline)', err);
      }
      this.inline.set(key, fn);
    }
    return fn;
  }

  /** Up to three of the answer's mismatches (`/version: must be string`), or none. */
  mismatches(ref: SchemaRef, body: unknown): string[] {
    const fn = this.compile(ref);
    if (fn(body)) return [];
    return (fn.errors ?? []).slice(0, 3).map((e) => {
      const where = e.instancePath || '(root)';
      const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
      return `${where}: ${e.message ?? e.keyword}${extra}`;
    });
  }
}

/** A schema that does not compile (`cause` from ajv), or a name no schema has (`cause` a message). */
export class SchemaError extends Error {
  constructor(
    readonly schema: string,
    cause: unknown,
  ) {
    super(
      typeof cause === 'string'
        ? cause
        : `invalid JSON Schema: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/** How a schema reads in a message: `the order schema`, or for one written in place, the request's. */
export function schemaLabel(ref: SchemaRef, request: string): string {
  return `the ${typeof ref === 'string' ? ref : request} schema`;
}

const compiled = new Map<string, ProbeSchemas>();

/**
 * The compiled schemas of a plan, kept for the next plan that holds the same ones: ajv compiles
 * to code, milliseconds per schema, and a worker checks one plan's probes at every stage.
 */
export function probeSchemasFor(named: Readonly<Record<string, Record<string, unknown>>>): ProbeSchemas {
  const key = JSON.stringify(named);
  let schemas = compiled.get(key);
  if (!schemas) {
    schemas = new ProbeSchemas(named);
    if (compiled.size >= 32) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, schemas);
  }
  return schemas;
}
