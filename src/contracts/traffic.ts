/** Share of traffic as the traffic provider reports it, and what the workflow records of it. */
export interface TrafficState {
  useDomainService: boolean;
  groups: Record<string, { percent: number }>;
}

/**
 * The share the domain service actually gets for `group`: 0 when the kill switch is off,
 * whatever the group's percent says. `undefined` when the provider does not know the group.
 */
export function effectivePercent(state: TrafficState, group: string): number | undefined {
  if (!state.useDomainService) return 0;
  return state.groups[group]?.percent;
}
