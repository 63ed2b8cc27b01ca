import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validatePlan, type PlanValidation } from './validate';

/** Reads a YAML or JSON plan file; syntax errors name the file and line. */
export async function readPlanFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text);
    return parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new Error(`${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

/** Accepts either a bare plan or a workflow input `{ plan, timeScale }` (the JSON twin's shape). */
export function unwrapPlan(doc: unknown): unknown {
  if (doc && typeof doc === 'object' && 'plan' in doc && !('phases' in doc)) return (doc as { plan: unknown }).plan;
  return doc;
}

export async function loadPlan(file: string): Promise<PlanValidation> {
  return validatePlan(unwrapPlan(await readPlanFile(file)));
}
