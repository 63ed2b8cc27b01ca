import { randomBytes } from 'node:crypto';
import type { ConsistencyProvider } from '../providers/consistency';
import { formatValue, sameValue } from '../providers/consistency';
import { messageOf } from '../providers/errors';
import type { WriteProbeReport } from '../contracts/samples';
import { heartbeat } from './context';
import { cameraListSchema, cameraSchema, type CameraBody } from './response-schemas';
import { compareStructure } from './structure';
import { describeCall, isServerError, type Impl, type TargetClient } from './target-client';

/** Every probe camera carries this tag, so leftovers of a crashed probe can be found and removed. */
export const PROBE_TAG = 'rollout-probe';
export const PROBE_PREFIX = 'rollout-probe-';
const CAMERAS = '/api/v1/cameras';
const cameraPath = (id: string) => `${CAMERAS}/${encodeURIComponent(id)}`;

/** A failed step: ends the probe with this message. */
class ProbeFailure extends Error {
  constructor(
    message: string,
    readonly serverError = false,
  ) {
    super(message);
  }
}

type Fields = Pick<CameraBody, 'name' | 'location' | 'rtsp_url' | 'enabled' | 'tags'>;

export function newProbeId(): string {
  return `${PROBE_PREFIX}${randomBytes(5).toString('hex')}`;
}

export function probeFields(rolloutId: string): Fields {
  return {
    name: `rollout probe ${rolloutId}`.slice(0, 200),
    location: 'rollout-probe',
    rtsp_url: 'rtsp://127.0.0.1:8554/rollout-probe',
    // A probe camera must not start streaming anywhere.
    enabled: false,
    tags: [PROBE_TAG],
  };
}

function isProbe(c: { id: string; tags?: string[] }): boolean {
  return c.id.startsWith(PROBE_PREFIX) || (c.tags ?? []).includes(PROBE_TAG);
}

export class CameraProbe {
  constructor(
    private readonly client: TargetClient,
    private readonly consistency?: ConsistencyProvider,
  ) {}

  async list(impl: Impl): Promise<CameraBody[]> {
    const r = await this.client.call('GET', CAMERAS, { impl });
    if (r.status !== 200)
      throw new ProbeFailure(`GET ${CAMERAS} via ${impl}: ${describeCall(r)}`, isServerError(r));
    const parsed = cameraListSchema.safeParse(r.body);
    if (!parsed.success)
      throw new ProbeFailure(
        `GET ${CAMERAS} via ${impl}: unexpected body: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data.items;
  }

  /**
   * Deletes every probe camera: leftovers of a probe that crashed half-way must not pile up or
   * make the next probe fail. Both listings are read (each implementation reads its own store, and
   * a half-written leftover may be in one only); legacy, the proven path, deletes first, domain
   * when legacy cannot.
   */
  async cleanup(extra: string[] = []): Promise<{ removed: string[]; failed: string[] }> {
    const ids = new Set(extra);
    for (const impl of ['legacy', 'domain'] as const) {
      try {
        for (const c of await this.list(impl)) if (isProbe(c)) ids.add(c.id);
      } catch {
        // The other listing may still work; explicit ids are tried regardless.
      }
    }
    const removed: string[] = [];
    const failed: string[] = [];
    for (const id of [...ids].sort()) {
      let gone = false;
      const errors: string[] = [];
      for (const impl of ['legacy', 'domain'] as const) {
        const r = await this.client.call('DELETE', cameraPath(id), { impl });
        if (r.status === 204 || r.status === 200) {
          removed.push(id);
          gone = true;
          break;
        }
        // 404: not there for this implementation; the other may still see it.
        if (r.status !== 404) errors.push(`DELETE via ${impl}: ${describeCall(r)}`);
      }
      if (!gone && errors.length) failed.push(`${id} (${errors.join('; ')})`);
    }
    return { removed, failed };
  }

  /** Checks one camera in both stores (when a consistency provider can look it up) and through both APIs. */
  async expectStored(id: string, expected: Fields | null, when: string): Promise<void> {
    const fields = expected ? (Object.keys(expected) as Array<keyof Fields>) : [];
    if (this.consistency?.lookup) {
      let pair;
      try {
        pair = await this.consistency.lookup(id);
      } catch (err) {
        throw new ProbeFailure(`${when}: cannot read the stores: ${messageOf(err)}`);
      }
      for (const [store, record] of [
        ['database', pair.db],
        ['yaml', pair.yaml],
      ] as const) {
        if (!expected) {
          if (record) throw new ProbeFailure(`${when}: ${id} is still in the ${store}`);
          continue;
        }
        if (!record) throw new ProbeFailure(`${when}: ${id} is missing in the ${store}`);
        for (const f of fields) {
          if (!sameValue(expected[f], record[f])) {
            throw new ProbeFailure(
              `${when}: ${id} ${f} in the ${store} is ${formatValue(record[f])}, expected ${formatValue(expected[f])}`,
            );
          }
        }
      }
    }
    for (const impl of ['legacy', 'domain'] as const) {
      const found = (await this.list(impl)).find((c) => c.id === id);
      if (!expected) {
        if (found) throw new ProbeFailure(`${when}: ${id} is still listed via ${impl}`);
        continue;
      }
      if (!found) throw new ProbeFailure(`${when}: ${id} is not listed via ${impl}`);
      for (const f of fields) {
        if (!sameValue(expected[f], found[f])) {
          throw new ProbeFailure(
            `${when}: ${id} ${f} via ${impl} is ${formatValue(found[f])}, expected ${formatValue(expected[f])}`,
          );
        }
      }
    }
  }

  /** One request that must answer `status` with a camera equal to `expected`. */
  async write(
    method: 'POST' | 'PUT' | 'DELETE',
    path: string,
    impl: Impl,
    status: number,
    body?: unknown,
    expected?: Fields & { id: string },
  ): Promise<CameraBody | undefined> {
    const endpoint = `${method} ${method === 'POST' ? CAMERAS : `${CAMERAS}/{camera_id}`}`;
    const r = await this.client.call(method, path, { impl, body });
    if (r.servedBy && r.servedBy !== impl)
      throw new ProbeFailure(`${endpoint} via ${impl}: answered by ${r.servedBy} (X-Rollout-Force ignored?)`);
    if (r.status !== status)
      throw new ProbeFailure(
        `${endpoint} via ${impl}: ${describeCall(r)} (expected ${status})`,
        isServerError(r),
      );
    if (status === 204) return undefined;
    const parsed = cameraSchema.safeParse(r.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProbeFailure(
        `${endpoint} via ${impl}: body does not match the camera schema: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      );
    }
    if (expected) {
      for (const f of Object.keys(expected) as Array<keyof typeof expected>) {
        if (!sameValue(expected[f], parsed.data[f])) {
          throw new ProbeFailure(
            `${endpoint} via ${impl}: answered ${f}=${formatValue(parsed.data[f])}, sent ${formatValue(expected[f])}`,
          );
        }
      }
    }
    return parsed.data;
  }

  /** A write asked to fail part-way must fail (5xx); the caller then checks nothing changed. */
  async injectedFailure(
    method: 'POST' | 'PUT',
    path: string,
    body: unknown,
    store: 'yaml' | 'db',
  ): Promise<void> {
    const r = await this.client.call(method, path, {
      impl: 'domain',
      body,
      headers: { 'X-Rollout-Inject-Failure': store },
    });
    if (r.status >= 200 && r.status < 300) {
      throw new ProbeFailure(
        `${method} ${CAMERAS} via domain with an injected ${store} failure succeeded (${r.status}): the failure header is not honoured`,
      );
    }
    if (r.status < 500)
      throw new ProbeFailure(
        `${method} via domain with an injected ${store} failure: ${describeCall(r)} (expected 5xx)`,
      );
  }
}

/**
 * The write probe (SPEC §1, "writes are atomic, data saved and updated correctly"), all through
 * `X-Rollout-Force: domain`: create, update and delete a probe camera, checking both stores and
 * both implementations' view after each step, then writes that are told to fail half-way
 * (YAML, then the database commit) must leave nothing behind. Probe cameras are always removed,
 * including those a crashed earlier probe left.
 */
export async function runWriteProbe(
  client: TargetClient,
  rolloutId: string,
  consistency?: ConsistencyProvider,
): Promise<WriteProbeReport> {
  const probe = new CameraProbe(client, consistency);
  const steps: string[] = [];
  const id = newProbeId();
  const failId = newProbeId();
  const created = probeFields(rolloutId);
  const updated: Fields = { ...created, name: `${created.name} (updated)`, tags: [PROBE_TAG, 'updated'] };
  const step = (text: string) => {
    steps.push(text);
    heartbeat(text);
  };
  try {
    const before = await probe.cleanup();
    if (before.removed.length)
      step(`removed ${before.removed.length} leftover probe camera(s): ${before.removed.join(', ')}`);
    if (before.failed.length)
      throw new ProbeFailure(`cannot remove leftover probe cameras: ${before.failed.join('; ')}`);

    await probe.write('POST', CAMERAS, 'domain', 201, { id, ...created }, { id, ...created });
    step(`created ${id} via domain`);
    await probe.expectStored(id, created, 'after create');
    step(`after create: ${id} in ${consistency?.lookup ? 'database, yaml, ' : ''}legacy and domain listings`);

    await probe.write(
      'PUT',
      cameraPath(id),
      'domain',
      200,
      { name: updated.name, tags: updated.tags },
      { id, ...updated },
    );
    step(`updated ${id} via domain`);
    await probe.expectStored(id, updated, 'after update');
    step('after update: new values everywhere');

    await probe.injectedFailure('PUT', cameraPath(id), { name: `${created.name} (must not stick)` }, 'yaml');
    await probe.expectStored(id, updated, 'after a failed update (yaml)');
    step('update with an injected yaml failure failed and changed nothing');

    await probe.write('DELETE', cameraPath(id), 'domain', 204);
    step(`deleted ${id} via domain`);
    await probe.expectStored(id, null, 'after delete');
    step('after delete: gone everywhere');

    for (const store of ['yaml', 'db'] as const) {
      await probe.injectedFailure('POST', CAMERAS, { id: failId, ...created }, store);
      await probe.expectStored(failId, null, `after a failed create (${store})`);
      step(`create with an injected ${store} failure failed and left nothing behind`);
    }
    return { ok: true, steps };
  } catch (err) {
    return { ok: false, steps, failure: messageOf(err) };
  } finally {
    // Always, also after a failure half-way: a probe camera must never stay in a production store.
    try {
      const after = await probe.cleanup([id, failId]);
      if (after.removed.length) steps.push(`cleanup removed ${after.removed.join(', ')}`);
      if (after.failed.length) steps.push(`cleanup could not remove ${after.failed.join('; ')}`);
    } catch (err) {
      steps.push(`cleanup failed: ${messageOf(err)}`);
    }
  }
}

/** Failures of one implementation's create → update → delete cycle, for the functional check. */
export interface LifecycleResult {
  failures: string[];
  serverErrors: number;
  responses: { create?: CameraBody; update?: CameraBody };
}

/** The functional check of the write endpoints: one cycle through each implementation, shapes compared. */
export async function runWriteLifecycles(client: TargetClient, rolloutId: string): Promise<LifecycleResult> {
  const probe = new CameraProbe(client);
  const failures: string[] = [];
  let serverErrors = 0;
  const seen: Partial<Record<Impl, LifecycleResult['responses']>> = {};
  const ids: string[] = [];
  try {
    const before = await probe.cleanup();
    if (before.failed.length)
      failures.push(`cannot remove leftover probe cameras: ${before.failed.join('; ')}`);
    for (const impl of ['legacy', 'domain'] as const) {
      const id = newProbeId();
      ids.push(id);
      const fields = probeFields(rolloutId);
      const responses: LifecycleResult['responses'] = {};
      seen[impl] = responses;
      try {
        responses.create = await probe.write(
          'POST',
          CAMERAS,
          impl,
          201,
          { id, ...fields },
          { id, ...fields },
        );
        const changed = { ...fields, name: `${fields.name} (updated)` };
        responses.update = await probe.write(
          'PUT',
          cameraPath(id),
          impl,
          200,
          { name: changed.name },
          { id, ...changed },
        );
        await probe.write('DELETE', cameraPath(id), impl, 204);
      } catch (err) {
        failures.push(messageOf(err));
        if (err instanceof ProbeFailure && err.serverError) serverErrors++;
      }
    }
    for (const kind of ['create', 'update'] as const) {
      const l = seen.legacy?.[kind];
      const d = seen.domain?.[kind];
      if (!l || !d) continue;
      const diff = compareStructure(l, d);
      const endpoint = kind === 'create' ? `POST ${CAMERAS}` : `PUT ${CAMERAS}/{camera_id}`;
      if (diff.length)
        failures.push(`${endpoint}: legacy and domain answers differ in structure: ${diff.join('; ')}`);
    }
  } finally {
    await probe.cleanup(ids).catch(() => undefined);
  }
  return { failures, serverErrors, responses: seen.domain ?? {} };
}
