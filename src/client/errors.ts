/** gRPC status codes used below (from @grpc/grpc-js, not imported: the CLI starts faster). */
const grpcStatus = {
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * Exit codes of `npx rollout` (documented in README.md):
 * 0 ok · 1 refused or failed (the rollout said no, verification failed, rollout rolled back)
 * 2 invalid input (plan problems, bad options) · 3 unknown rollout · 4 Temporal unreachable or timed out
 */
export const EXIT = { ok: 0, refused: 1, invalid: 2, notFound: 3, unreachable: 4 } as const;

/** An error the CLI prints as one line (plus optional detail lines) and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.refused,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

function grpcCodeOf(err: unknown): number | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageChain(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const m = e instanceof Error ? e.message : String(e);
    if (m && !parts.includes(m)) parts.push(m);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

/**
 * Turns whatever went wrong into a one-line message with a hint. `address` names the Temporal
 * server in connection messages.
 */
/** A call that ran out of time (gRPC DEADLINE_EXCEEDED, or a timeout in its message chain). */
export function isDeadlineExceeded(err: unknown): boolean {
  return grpcCodeOf(err) === grpcStatus.DEADLINE_EXCEEDED || /deadline|timed? ?out/i.test(messageChain(err));
}

export function toCliError(err: unknown, address: string, namespace: string): CliError {
  if (err instanceof CliError) return err;
  const name = (err as { name?: string } | undefined)?.name;
  const text = messageChain(err);
  if (name === 'WorkflowNotFoundError') {
    const id = (err as { workflowId?: string }).workflowId;
    return new CliError(
      `no rollout ${id ? `"${id}" ` : ''}in namespace ${namespace} at ${address}. Hint: \`npx rollout list\` shows the rollouts there.`,
      EXIT.notFound,
    );
  }
  if (name === 'NamespaceNotFoundError') {
    return new CliError(
      `namespace ${namespace} does not exist at ${address}. Hint: set TEMPORAL_NAMESPACE to an existing namespace.`,
      EXIT.unreachable,
    );
  }
  const code = grpcCodeOf(err);
  if (isDeadlineExceeded(err)) {
    return new CliError(
      `timed out talking to Temporal at ${address} (${shorten(text)}). Hint: is the server reachable and a worker running (\`npm start\` or \`npm run worker\`)?`,
      EXIT.unreachable,
    );
  }
  if (code === grpcStatus.UNAVAILABLE || /ECONNREFUSED|UNAVAILABLE|failed to connect/i.test(text)) {
    return new CliError(
      `cannot reach Temporal at ${address} (${shorten(text)}). Hint: start it with \`npm start\`, or set TEMPORAL_ADDRESS.`,
      EXIT.unreachable,
    );
  }
  if (code === grpcStatus.UNAUTHENTICATED || code === grpcStatus.PERMISSION_DENIED) {
    return new CliError(
      `Temporal at ${address} refused the credentials (${shorten(text)}). Hint: check TEMPORAL_API_KEY or TEMPORAL_TLS_CLIENT_CERT_PATH/TEMPORAL_TLS_CLIENT_KEY_PATH.`,
      EXIT.unreachable,
    );
  }
  if (/search attribute/i.test(text) && /not (defined|registered|found)|unknown|no mapping/i.test(text)) {
    return new CliError(
      `the rollout search attributes are not registered on namespace ${namespace} (${shorten(text)}). Hint: run \`npx rollout setup\`.`,
      EXIT.refused,
    );
  }
  return new CliError(shorten(text, 400), EXIT.refused);
}

function shorten(text: string, max = 200): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
