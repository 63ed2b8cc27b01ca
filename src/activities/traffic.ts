import type { ApplyTrafficInput, RollbackTrafficInput, RollbackTrafficResult } from '../contracts/activities';
import type { TrafficState } from '../contracts/traffic';
import { permanent } from '../providers/errors';
import { effectivePercent } from '../contracts/traffic';
import type { ResolvedDeps } from './deps';
import { heartbeat, keptAlive } from './context';

const describe = (s: TrafficState) =>
  `useDomainService=${s.useDomainService}, ${Object.entries(s.groups)
    .map(([g, v]) => `${g}=${v.percent}%`)
    .join(', ')}`;

export function trafficActivities(deps: ResolvedDeps) {
  return keptAlive({
    /**
     * Sets a group's percent. A percent above 0 means nothing while the kill switch is off, so
     * the switch is turned on too — unless another group would then start moving to the domain
     * service unasked (its percent is above 0), which needs a human.
     */
    async applyTraffic(input: ApplyTrafficInput): Promise<TrafficState> {
      const provider = deps.trafficFor(input.traffic);
      let state = await provider.setPercent(input.group, input.percent);
      if (input.percent > 0 && !state.useDomainService) {
        const others = Object.entries(state.groups).filter(([g, v]) => g !== input.group && v.percent > 0);
        if (others.length > 0) {
          throw permanent(
            `the kill switch is off; turning it on for ${input.group} would also send ${others
              .map(([g, v]) => `${g} (${v.percent}%)`)
              .join(', ')} to the domain service: set those to 0 or turn the switch on by hand`,
            'RolloutKillSwitchConflict',
          );
        }
        heartbeat('turning the kill switch on');
        state = await provider.setKillSwitch(true);
      }
      if (input.targetId)
        deps.metrics.percentApplied(
          input.targetId,
          input.group,
          effectivePercent(state, input.group) ?? input.percent,
        );
      return state;
    },

    /**
     * Sends the group back to legacy and reads the state back. Throws (retryable) until the target
     * reports the group at 0%, so Temporal keeps retrying until the rollback has taken effect.
     */
    async rollbackTraffic(input: RollbackTrafficInput): Promise<RollbackTrafficResult> {
      const provider = deps.trafficFor(input.traffic);
      if (input.mode === 'kill-switch') await provider.setKillSwitch(false);
      else await provider.setPercent(input.group, 0);
      const state = await provider.get([...new Set([input.group, ...(input.readBack ?? [])])]);
      const now = effectivePercent(state, input.group);
      if (now !== 0) {
        throw new Error(
          `rollback of ${input.group} (${input.mode}) not in effect yet: target reports ${describe(state)}`,
        );
      }
      if (input.targetId) {
        const since = input.evidenceAt ? (Date.now() - Date.parse(input.evidenceAt)) / 1000 : null;
        deps.metrics.rolledBack(input.targetId, input.group, input.trigger ?? 'manual', since);
      }
      return { state, verified: true };
    },
  });
}
