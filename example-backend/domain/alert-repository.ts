import type Database from 'better-sqlite3';
import { AlertLevel, type AlertEvent, type AlertRule } from '../schemas';

/** Read-only access to alert rules and history for the domain service. */
export class AlertRepository {
  constructor(private readonly db: Database.Database) {}

  recentEvents(limit: number): AlertEvent[] {
    const rows = this.db
      .prepare('SELECT * FROM alert_history ORDER BY created_at DESC, id DESC LIMIT ?')
      .all(limit) as Array<AlertEvent & { level: string }>;
    return rows.map((row) => ({ ...row, level: AlertLevel.parse(row.level) }));
  }

  countEvents(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM alert_history').get() as { n: number }).n;
  }

  rules(): AlertRule[] {
    const rows = this.db.prepare('SELECT * FROM alert_rules ORDER BY id').all() as Array<{
      id: string;
      name: string;
      enabled: number;
      threshold: number;
      level: string;
    }>;
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      enabled: row.enabled === 1,
      threshold: row.threshold,
      level: AlertLevel.parse(row.level),
    }));
  }
}
