/** What traffic providers report and the workflow records: the domain share per group. */
/** Share of traffic as the traffic provider reports it. */
export interface TrafficState {
  useDomainService: boolean;
  groups: Record<string, { percent: number }>;
}
