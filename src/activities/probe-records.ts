import { parseEndpoint } from '../plan/endpoints';
import type { WriteLifecycle } from '../plan/probes-schema';
import type { ConsistencyProvider } from '../providers/consistency';
import { formatValue, sameValue } from '../providers/consistency';
import { messageOf } from '../providers/errors';
import { pick } from '../probes/json-path';
import { fillPath, markerMatcher, pathParams } from '../probes/templates';
import { describeCall, isServerError, statusMatches, type Impl, type TargetClient } from './target-client';

/** A failed step of a lifecycle: ends the run with this message. */
export class ProbeFailure extends Error {
  constructor(
    message: string,
    readonly serverError = false,
  ) {
    super(message);
  }
}

/** Which record a step is about: by id, or by a field holding a value (before an id exists). */
export type RecordRef = { id: string | number } | { field: string; equals: unknown };

export function describeRecord(ref: RecordRef): string {
  return 'id' in ref ? String(ref.id) : `the record with ${ref.field}=${formatValue(ref.equals)}`;
}

type Item = Record<string, unknown>;

/**
 * A lifecycle's records as the target shows them: its listing through either implementation,
 * its stores through the consistency provider, and the cleanup that removes probe records.
 */
export class ProbeRecords {
  /** Whether a record's marker field holds this lifecycle's marker, with any run's token. */
  private readonly isMarker: (value: unknown) => boolean;

  constructor(
    private readonly client: TargetClient,
    private readonly life: WriteLifecycle,
    rolloutId: string,
    /** Set when the lifecycle looks records up in both stores (`lookup: consistency`). */
    private readonly stores?: ConsistencyProvider,
  ) {
    // A marker without a per-run token (refused by plan validation) marks nothing: only the
    // records the run itself created are removed then.
    const marker = life.marker.value;
    this.isMarker =
      typeof marker === 'string' && marker.includes('${token}') ? markerMatcher(marker, rolloutId) : () => false;
  }

  /** What the stored checks read, for the report's lines. */
  get reads(): string {
    return `${this.stores ? 'database, yaml, ' : ''}legacy and domain listings`;
  }

  idOf(item: unknown): string | number | undefined {
    const id = pick(item, this.life.list.id);
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  }

  async list(impl: Impl): Promise<Item[]> {
    const { method, route } = parseEndpoint(this.life.list.request);
    const r = await this.client.call(method, route, { impl });
    const via = `${this.life.list.request} via ${impl}`;
    if (!statusMatches(r.status, '2xx'))
      throw new ProbeFailure(`${via}: ${describeCall(r)}`, isServerError(r));
    const items = pick(r.body, this.life.list.items);
    if (!Array.isArray(items))
      throw new ProbeFailure(
        `${via}: ${this.life.list.items} is not a list in the answer (${describeCall(r)})`,
      );
    return items.filter((x): x is Item => typeof x === 'object' && x !== null && !Array.isArray(x));
  }

  /**
   * Removes every record that carries the marker (its fixed text with any run's token), and
   * `extra`: leftovers of a probe that crashed
   * half-way must neither pile up nor fail the next probe. Both listings are read (each
   * implementation may read its own store, and a half-written leftover may be in one only);
   * legacy, the proven path, deletes first, domain when legacy cannot.
   */
  async cleanup(extra: Array<string | number> = []): Promise<{ removed: string[]; failed: string[] }> {
    const ids = new Map<string, string | number>(extra.map((id) => [String(id), id]));
    for (const impl of ['legacy', 'domain'] as const) {
      try {
        for (const item of await this.list(impl)) {
          const id = this.idOf(item);
          if (id !== undefined && this.isMarker(pick(item, this.life.marker.field)))
            ids.set(String(id), id);
        }
      } catch {
        // The other listing may still work; explicit ids are tried regardless.
      }
    }
    const { method, route } = parseEndpoint(this.life.cleanup);
    const [param] = pathParams(route);
    const removed: string[] = [];
    const failed: string[] = [];
    for (const [key, id] of [...ids].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      let gone = false;
      const errors: string[] = [];
      for (const impl of ['legacy', 'domain'] as const) {
        const r = await this.client.call(method, fillPath(route, { [param]: id }), { impl });
        if (statusMatches(r.status, '2xx')) {
          removed.push(key);
          gone = true;
          break;
        }
        // 404: not there for this implementation; the other may still see it.
        if (r.status !== 404) errors.push(`${method} via ${impl}: ${describeCall(r)}`);
      }
      if (!gone && errors.length) failed.push(`${key} (${errors.join('; ')})`);
    }
    return { removed, failed };
  }

  private matches(ref: RecordRef, item: Item): boolean {
    if ('id' in ref) return String(this.idOf(item)) === String(ref.id);
    return sameValue(item[ref.field], ref.equals);
  }

  private async fromStores(ref: RecordRef, when: string): Promise<Array<[string, Item[]]>> {
    const stores = this.stores!;
    try {
      if ('id' in ref) {
        if (!stores.lookup) throw new Error('the consistency provider cannot look a record up');
        const pair = await stores.lookup(String(ref.id));
        return [
          ['database', pair.db ? [pair.db] : []],
          ['yaml', pair.yaml ? [pair.yaml] : []],
        ];
      }
      if (!stores.lookupWhere) throw new Error('the consistency provider cannot look records up by field');
      const lists = await stores.lookupWhere(ref.field, ref.equals);
      return [
        ['database', lists.db],
        ['yaml', lists.yaml],
      ];
    } catch (err) {
      throw new ProbeFailure(`${when}: cannot read the stores: ${messageOf(err)}`);
    }
  }

  /**
   * Checks one record in both stores (with `lookup: consistency`) and through both listings:
   * present with the `expected` fields, or absent when `expected` is null.
   */
  async expectStored(ref: RecordRef, expected: Item | null, when: string): Promise<void> {
    const name = describeRecord(ref);
    const places: Array<[string, Item[]]> = this.stores ? await this.fromStores(ref, when) : [];
    for (const impl of ['legacy', 'domain'] as const) {
      const found = (await this.list(impl)).filter((item) => this.matches(ref, item));
      places.push([`via ${impl}`, found]);
    }
    for (const [place, records] of places) {
      const listing = place.startsWith('via ');
      if (!expected) {
        if (records.length)
          throw new ProbeFailure(
            `${when}: ${name} is still ${listing ? `listed ${place}` : `in the ${place}`}`,
          );
        continue;
      }
      if (!records.length)
        throw new ProbeFailure(
          `${when}: ${name} is ${listing ? `not listed ${place}` : `missing in the ${place}`}`,
        );
      for (const record of records)
        for (const [f, want] of Object.entries(expected))
          if (!sameValue(want, record[f]))
            throw new ProbeFailure(
              `${when}: ${name} ${f} ${listing ? place : `in the ${place}`} is ${formatValue(record[f])}, expected ${formatValue(want)}`,
            );
    }
  }
}
