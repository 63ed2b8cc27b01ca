/** Jest's global teardown: removes what the global setup made (test/helpers/global-setup.ts). */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { TEST_BUNDLE_ENV } from './temporal';

export default async function globalTeardown(): Promise<void> {
  const file = process.env[TEST_BUNDLE_ENV];
  if (file && path.basename(path.dirname(file)).startsWith('rollout-jest-'))
    rmSync(path.dirname(file), { recursive: true, force: true });
}
