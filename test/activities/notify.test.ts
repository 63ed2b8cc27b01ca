import { createActivities } from '../../src/activities';
import { rejectionOf, serve } from '../providers/support';

describe('notify', () => {
  test('POSTs the event as JSON with its text and the idempotency key; 2xx is done', async () => {
    const received: Array<{ method?: string; key?: string | string[]; type?: string; body: unknown }> = [];
    const hook = await serve((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push({
          method: req.method,
          key: req.headers['idempotency-key'],
          type: req.headers['content-type'],
          body: JSON.parse(data),
        });
        res.writeHead(202).end();
      });
    });
    try {
      await createActivities({ env: {} }).notify({
        webhookUrl: `${hook.url}/hooks/rollouts`,
        idempotencyKey: 'rollout-camera-api/awaiting-approval/1',
        event: {
          kind: 'awaiting-approval',
          rolloutId: 'rollout-camera-api',
          text: 'phase3-write waits for approval',
          phase: 'phase3-write',
        },
      });
      expect(received).toEqual([
        {
          method: 'POST',
          key: 'rollout-camera-api/awaiting-approval/1',
          type: 'application/json',
          body: {
            kind: 'awaiting-approval',
            rolloutId: 'rollout-camera-api',
            text: 'phase3-write waits for approval',
            phase: 'phase3-write',
          },
        },
      ]);
    } finally {
      await hook.close();
    }
  });

  test.each([
    [500, /HTTP 500/],
    [404, /HTTP 404/],
  ])(
    'a %s is thrown so Temporal retries, without the webhook path in the message',
    async (status, pattern) => {
      const hook = await serve((_req, res) => res.writeHead(status).end('nope'));
      try {
        const err = await rejectionOf(
          createActivities({ env: {} }).notify({
            webhookUrl: `${hook.url}/secret-token-path`,
            idempotencyKey: 'k',
            event: { kind: 'completed', rolloutId: 'r', text: 'done' },
          }),
        );
        expect(err.message).toMatch(pattern);
        expect(err.message).not.toContain('secret-token-path');
        expect(err.nonRetryable).toBeUndefined();
      } finally {
        await hook.close();
      }
    },
  );
});
