import type Database from 'better-sqlite3';
import type { AlertHistory, AlertLevel, AlertRules } from '../schemas';

/** Legacy alert endpoints: one raw query each, mapped by hand as the old code did. */

export function legacyAlertHistory(db: Database.Database, limit: number): AlertHistory {
  const rows = db
    .prepare(
      'SELECT id, camera_id, rule_id, level, message, created_at FROM alert_history ORDER BY created_at DESC, id DESC LIMIT ?',
    )
    .all(limit) as Array<Record<string, string>>;
  const { n } = db.prepare('SELECT COUNT(*) AS n FROM alert_history').get() as { n: number };
  return {
    items: rows.map((r) => ({
      id: r.id,
      camera_id: r.camera_id,
      rule_id: r.rule_id,
      level: r.level as AlertLevel,
      message: r.message,
      created_at: r.created_at,
    })),
    total: n,
  };
}

export function legacyAlertRules(db: Database.Database): AlertRules {
  const rows = db.prepare('SELECT * FROM alert_rules ORDER BY id').all() as Array<{
    id: string;
    name: string;
    enabled: number;
    threshold: number;
    level: string;
  }>;
  return {
    items: rows.map((r) => ({
      id: r.id,
      name: r.name,
      enabled: r.enabled === 1,
      threshold: r.threshold,
      level: r.level as AlertLevel,
    })),
    total: rows.length,
  };
}
