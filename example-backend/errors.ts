import type { z } from 'zod';

/** An error the API answers as `{ error, field? }` with a status, whichever implementation raised it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: string; field?: string } {
    return this.field === undefined ? { error: this.message } : { error: this.message, field: this.field };
  }
}

/** Raised by the store when a probe asked for a failure; the API answers 500 and nothing is changed. */
export class InjectedFailure extends Error {
  constructor(readonly store: 'yaml' | 'db') {
    super(`injected ${store} write failure`);
    this.name = 'InjectedFailure';
  }
}

/**
 * Turns the first zod issue into a 400 that names the offending field with its full dotted path,
 * so an operator (or the orchestrator's error listing) can point at it without guessing.
 */
export function fromZodError(error: z.ZodError, root = 'body'): ApiError {
  // A misspelt key usually explains a "missing" field next to it, so it is the more useful report.
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0];
  const base = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const field = [...base, issue.keys[0]].join('.');
    return new ApiError(400, `${field}: unknown field`, field);
  }
  const field = base.length > 0 ? base.join('.') : root;
  return new ApiError(400, `${field}: ${issue.message}`, field);
}

/** Type-error message for a zod schema: "is required" when the field is absent, `text` otherwise. */
export function must(text: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : text);
}
