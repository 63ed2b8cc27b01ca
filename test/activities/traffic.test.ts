import { createActivities } from '../../src/activities';
import type { TrafficConfig } from '../../src/plan/schema';
import type { TrafficProvider } from '../../src/providers/traffic';
import type { TrafficState } from '../../src/contracts/traffic';
import { ADMIN_TOKEN, rejectionOf, startTestBackend, type Backend } from '../providers/support';

describe('traffic activities against the example backend', () => {
  let backend: Backend;
  let traffic: TrafficConfig;
  // The worker's policy lets plans name this variable as their tokenEnv (not in the defaults).
  const env = { CAMERA_ADMIN_TOKEN: ADMIN_TOKEN, ROLLOUT_ALLOW_TOKEN_ENV: 'CAMERA_ADMIN_TOKEN' };

  beforeEach(async () => {
    backend = await startTestBackend({ USE_DOMAIN_SERVICE: 'true' });
    traffic = {
      type: 'http',
      url: `${backend.url}/admin/rollout`,
      tokenEnv: 'CAMERA_ADMIN_TOKEN',
      timeout: '5s',
    };
  });
  afterEach(() => backend.dispose());

  test('applyTraffic sets the percent and returns what the backend reports', async () => {
    const acts = createActivities({ env });
    const state = await acts.applyTraffic({ traffic, group: 'read', percent: 10 });
    expect(state).toEqual({
      useDomainService: true,
      groups: { read: { percent: 10 }, write: { percent: 0 } },
    });
    // The backend now routes about 10% of keyed users to domain.
    let domain = 0;
    for (let i = 0; i < 200; i++) {
      const r = await backend.call('GET', '/api/v1/system/info', undefined, { 'X-Rollout-Key': `u${i}` });
      if (r.servedBy === 'domain') domain++;
    }
    expect(domain).toBeGreaterThan(5);
    expect(domain).toBeLessThan(50);
  });

  test('applyTraffic turns the kill switch on when no other group would move', async () => {
    await backend.admin('PUT', '/admin/rollout', { useDomainService: false });
    const state = await createActivities({ env }).applyTraffic({ traffic, group: 'read', percent: 10 });
    expect(state.useDomainService).toBe(true);
    expect((await backend.admin('GET', '/admin/rollout')).body.useDomainService).toBe(true);
  });

  test('applyTraffic refuses (permanently) to turn the switch on under another group', async () => {
    await backend.admin('PUT', '/admin/rollout', {
      useDomainService: false,
      groups: { read: { percent: 50 } },
    });
    const err = await rejectionOf(
      createActivities({ env }).applyTraffic({ traffic, group: 'write', percent: 5 }),
    );
    expect(err.message).toContain('read (50%)');
    expect(err.nonRetryable).toBe(true);
    expect((await backend.admin('GET', '/admin/rollout')).body.useDomainService).toBe(false);
  });

  test('rollbackTraffic with percent: the group is at 0 and verified, the other untouched', async () => {
    await backend.admin('PUT', '/admin/rollout', {
      groups: { read: { percent: 100 }, write: { percent: 25 } },
    });
    const result = await createActivities({ env }).rollbackTraffic({
      traffic,
      group: 'write',
      mode: 'percent',
    });
    expect(result.verified).toBe(true);
    expect(result.state.groups).toEqual({ read: { percent: 100 }, write: { percent: 0 } });
    for (let i = 0; i < 20; i++) {
      const r = await backend.call('DELETE', '/api/v1/cameras/none', undefined, { 'X-Rollout-Key': `u${i}` });
      expect(r.servedBy).toBe('legacy');
    }
  });

  test('rollbackTraffic with the kill switch', async () => {
    await backend.admin('PUT', '/admin/rollout', { groups: { read: { percent: 50 } } });
    const result = await createActivities({ env }).rollbackTraffic({
      traffic,
      group: 'read',
      mode: 'kill-switch',
    });
    expect(result.state.useDomainService).toBe(false);
    expect((await backend.admin('GET', '/admin/rollout')).body.useDomainService).toBe(false);
  });

  test('a missing token is a permanent failure naming the variable', async () => {
    const err = await rejectionOf(
      createActivities({ env: {} }).rollbackTraffic({ traffic, group: 'read', mode: 'percent' }),
    );
    expect(err.message).toContain('CAMERA_ADMIN_TOKEN');
    expect(err.nonRetryable).toBe(true);
  });
});

describe('rollbackTraffic confirms the change took effect', () => {
  /** A target that acknowledges changes but keeps serving the old share for `lag` reads. */
  function laggingProvider(lag: number): TrafficProvider & { calls: string[] } {
    let state: TrafficState = { useDomainService: true, groups: { read: { percent: 50 } } };
    let pending: TrafficState | undefined;
    let reads = 0;
    const calls: string[] = [];
    return {
      calls,
      async get() {
        calls.push('get');
        if (pending && ++reads > lag) state = pending;
        return state;
      },
      async setPercent(group, percent) {
        calls.push(`setPercent ${group} ${percent}`);
        pending = { ...state, groups: { ...state.groups, [group]: { percent } } };
        return state;
      },
      async setKillSwitch(on) {
        calls.push(`setKillSwitch ${on}`);
        pending = { ...state, useDomainService: on };
        return state;
      },
    };
  }
  const traffic: TrafficConfig = { type: 'http', url: 'http://127.0.0.1:1/admin/rollout', timeout: '1s' };

  test('throws a retryable error while the target still reports the old percent, passes once it does not', async () => {
    const provider = laggingProvider(1);
    const acts = createActivities({ env: {}, trafficFor: () => provider });
    const err = await rejectionOf(acts.rollbackTraffic({ traffic, group: 'read', mode: 'percent' }));
    expect(err.message).toContain('not in effect yet');
    expect(err.message).toContain('read=50%');
    expect(err.nonRetryable).toBeUndefined();
    // Temporal's retry: the same activity again.
    const ok = await acts.rollbackTraffic({ traffic, group: 'read', mode: 'percent' });
    expect(ok).toEqual({
      state: { useDomainService: true, groups: { read: { percent: 0 } } },
      verified: true,
    });
    expect(provider.calls).toEqual(['setPercent read 0', 'get', 'setPercent read 0', 'get']);
  });

  test('kill switch mode is confirmed by the switch, whatever the percent', async () => {
    const provider = laggingProvider(0);
    const ok = await createActivities({ env: {}, trafficFor: () => provider }).rollbackTraffic({
      traffic,
      group: 'read',
      mode: 'kill-switch',
    });
    expect(ok.state).toEqual({ useDomainService: false, groups: { read: { percent: 50 } } });
  });
});
