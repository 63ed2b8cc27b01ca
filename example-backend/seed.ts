import type { AlertLevel } from './schemas';

/** First-start data, so a fresh backend has something to serve and a rollout something to compare. */

export const SEED_CAMERAS = [
  { id: 'cam-001', name: 'Lobby entrance', location: 'Building A / lobby', tags: ['indoor', 'entrance'] },
  {
    id: 'cam-002',
    name: 'Parking north',
    location: 'Parking lot / north gate',
    tags: ['outdoor', 'parking'],
  },
  { id: 'cam-003', name: 'Loading dock', location: 'Building B / dock 2', tags: ['outdoor', 'logistics'] },
  { id: 'cam-004', name: 'Server room', location: 'Building A / basement', tags: ['indoor', 'restricted'] },
  { id: 'cam-005', name: 'Rooftop', location: 'Building A / roof', tags: ['outdoor'] },
].map((c, i) => ({
  ...c,
  rtsp_url: `rtsp://10.0.0.${11 + i}:554/stream1`,
  enabled: c.id !== 'cam-005',
}));

export const SEED_RULES: Array<{
  id: string;
  name: string;
  enabled: boolean;
  threshold: number;
  level: AlertLevel;
}> = [
  { id: 'rule-motion', name: 'Motion after hours', enabled: true, threshold: 0.6, level: 'warning' },
  { id: 'rule-offline', name: 'Camera offline', enabled: true, threshold: 30, level: 'critical' },
  { id: 'rule-tamper', name: 'Lens tampering', enabled: true, threshold: 0.8, level: 'critical' },
  { id: 'rule-crowd', name: 'Crowd density', enabled: false, threshold: 25, level: 'info' },
];

const MESSAGES: Record<string, string> = {
  'rule-motion': 'Motion detected outside business hours',
  'rule-offline': 'Camera stopped sending frames',
  'rule-tamper': 'Image suddenly blurred or covered',
  'rule-crowd': 'More people than expected in view',
};

/** Deterministic history (no randomness), so legacy and domain answers can be compared row by row. */
export function seedAlerts(now: Date): Array<{
  id: string;
  camera_id: string;
  rule_id: string;
  level: AlertLevel;
  message: string;
  created_at: string;
}> {
  const rows = [];
  for (let i = 0; i < 120; i++) {
    const rule = SEED_RULES[i % SEED_RULES.length];
    const camera = SEED_CAMERAS[(i * 7) % SEED_CAMERAS.length];
    rows.push({
      id: `alert-${String(i + 1).padStart(5, '0')}`,
      camera_id: camera.id,
      rule_id: rule.id,
      level: rule.level,
      message: `${MESSAGES[rule.id]} (${camera.name})`,
      created_at: new Date(now.getTime() - (120 - i) * 7 * 60_000).toISOString(),
    });
  }
  return rows;
}
