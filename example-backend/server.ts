import { startBackend } from './app';
import { ConfigError, parseServerEnv } from './config';

/** `npm run backend`: the example camera API as a process, configured from the environment. */
async function main(): Promise<void> {
  const config = parseServerEnv(process.env);
  const backend = await startBackend({ ...config, env: process.env, log: (line) => console.error(line) });
  console.log(`camera-api listening on ${backend.url}`);
  console.log(`data in ${backend.dataDir}${config.adminToken ? '; admin routes need the bearer token' : ''}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing`);
    backend.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`camera-api: invalid environment: ${error.message}`);
  else console.error(`camera-api: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
