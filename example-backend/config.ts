import path from 'node:path';
import type { RolloutSettings } from './routing';

/**
 * Environment parsing. Bad values stop the process with the variable's name in the message:
 * a backend that silently fell back to a default percent would make a rollout lie about its share.
 */

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** An empty value counts as unset: env files often carry `NAME=` lines. */
function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function parseBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new ConfigError(name, `must be true, false, 1 or 0 (got ${JSON.stringify(raw)})`);
}

function parsePercent(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  // Digits only: the orchestrator records percents in an Int search attribute, so "2.5" (or "1e1")
  // would be a share it could never report.
  if (!/^\d{1,3}$/.test(raw) || value > 100) {
    throw new ConfigError(name, `must be a whole number 0..100 (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** `USE_DOMAIN_SERVICE`, `ROLLOUT_PERCENT` and the per-group overrides that win over it. */
export function parseRolloutEnv(env: Env): RolloutSettings {
  const useDomainService = parseBool(env, 'USE_DOMAIN_SERVICE', true);
  const shared = parsePercent(env, 'ROLLOUT_PERCENT', 0);
  return {
    useDomainService,
    groups: {
      read: { percent: parsePercent(env, 'ROLLOUT_PERCENT_READ', shared) },
      write: { percent: parsePercent(env, 'ROLLOUT_PERCENT_WRITE', shared) },
    },
  };
}

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  adminToken?: string;
}

/** What `npm run backend` needs beyond the rollout switches. */
export function parseServerEnv(env: Env): ServerConfig {
  const rawPort = read(env, 'PORT') ?? '8000';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    throw new ConfigError('PORT', `must be an integer 0..65535 (got ${JSON.stringify(rawPort)})`);
  }
  return {
    port,
    host: read(env, 'HOST') ?? '127.0.0.1',
    dataDir: path.resolve(read(env, 'DATA_DIR') ?? './data'),
    adminToken: read(env, 'ADMIN_TOKEN'),
  };
}
