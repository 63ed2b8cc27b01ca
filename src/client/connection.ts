import { Client, Connection } from '@temporalio/client';
import { connectionOptions, temporalSettings, type TemporalSettings } from './config';

/** A Temporal client configured from the environment, for the CLI and scripts. */
export async function connectClient(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ client: Client; connection: Connection; settings: TemporalSettings }> {
  const settings = temporalSettings(env);
  const connection = await Connection.connect({
    ...connectionOptions(settings),
    connectTimeout: '5s',
  });
  return { client: new Client({ connection, namespace: settings.namespace }), connection, settings };
}

/** SPEC §3: one running rollout per target. */
export function rolloutIdFor(targetId: string): string {
  return `rollout-${targetId}`;
}
