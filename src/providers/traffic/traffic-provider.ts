import type { TrafficState } from '../../contracts/traffic';

/** Moves traffic between the legacy and the domain implementation of a target. */
export interface TrafficProvider {
  /**
   * The share currently in force, as the target reports it. `groups` names the groups the caller
   * cares about: a provider that cannot list groups by itself (an env file with one shared
   * variable) reports at least these.
   */
  get(groups?: string[]): Promise<TrafficState>;
  /** Sets one group's percent (0..100), leaving other groups as they are. */
  setPercent(group: string, percent: number): Promise<TrafficState>;
  /** `false` sends every group to legacy at once (the seed's `USE_DOMAIN_SERVICE=false`). */
  setKillSwitch(useDomainService: boolean): Promise<TrafficState>;
}
