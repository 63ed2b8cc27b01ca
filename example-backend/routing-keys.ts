import { createHash } from 'node:crypto';
import { GROUPS, IMPLS, type Group, type Impl } from './schemas';

/** Default bound of each (group, implementation) set: past it the gauge reads the cap. */
export const ROUTING_KEYS_CAP = 1_000_000;

/**
 * A key as a 48-bit number: a key may be up to 1 KB and a set holds up to a million of them, so
 * they are not kept as strings. At a million keys the chance of any two colliding is ~0.2%.
 */
function fingerprint(key: string): number {
  return createHash('sha256').update(key, 'utf8').digest().readUIntBE(0, 6);
}

interface Seen {
  keys: Set<number>;
  /** Requests without a key: each is a user of its own. */
  keyless: number;
}

/**
 * Distinct routing keys the router sent to each implementation, per group, since that group's
 * routing last changed (gauge `rollout_routing_keys{group,impl}`). With sticky routing the served
 * share is a share of users, not of requests: 900 requests from one heavy user are one key.
 */
export class RoutingKeys {
  private readonly seen = new Map<Group, Map<Impl, Seen>>();

  constructor(private readonly cap = ROUTING_KEYS_CAP) {
    for (const group of GROUPS) this.reset(group);
  }

  /** One request the router (not a probe) sent to `impl`. */
  record(group: Group, impl: Impl, key: string | undefined): void {
    const seen = this.seen.get(group)!.get(impl)!;
    if (key === undefined) seen.keyless++;
    else if (seen.keys.size < this.cap) seen.keys.add(fingerprint(key));
  }

  /** Distinct keys so far, keyless requests included, at most the cap. */
  count(group: Group, impl: Impl): number {
    const seen = this.seen.get(group)!.get(impl)!;
    return Math.min(this.cap, seen.keys.size + seen.keyless);
  }

  /** The group's routing changed: who lands where starts over. */
  reset(group: Group): void {
    this.seen.set(group, new Map(IMPLS.map((impl) => [impl, { keys: new Set<number>(), keyless: 0 }])));
  }
}
