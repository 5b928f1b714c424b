/**
 * Alert kinds, their severities and the Teltonika inputs that raise them (docs/safety.md).
 *
 * Two families:
 *  - latched (sos, crash, towing, unplug): raised by one record; only an official closes them
 *    (or an operator flag that makes every fix that raised one faulty);
 *  - condition (stopped, silent, off_course): raised while a condition holds for long enough,
 *    closed automatically when it clears (moving again, heard again, back on course).
 */

export const ALERT_KINDS = ['sos', 'crash', 'towing', 'unplug', 'stopped', 'silent', 'off_course'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const SEVERITY: Record<AlertKind, Severity> = {
  sos: 'critical',
  crash: 'critical',
  stopped: 'high',
  silent: 'high',
  unplug: 'medium',
  towing: 'medium',
  off_course: 'medium',
};

export const LATCHED_KINDS: readonly AlertKind[] = ['sos', 'crash', 'towing', 'unplug'];
export const CONDITION_KINDS: readonly AlertKind[] = ['stopped', 'silent', 'off_course'];

export function isLatched(kind: AlertKind): boolean {
  return LATCHED_KINDS.includes(kind);
}

/** AVL record priority of a panic record (research teltonika.md §2: 0 low, 1 high, 2 panic). */
export const PRIORITY_PANIC = 2;

/**
 * IO elements that raise a latched alert when they become non-zero (research teltonika.md §6,
 * Traccar's FMB mapping): 236 alarm (the SOS/alarm input), 247 crash, 246 tow, 252 unplug.
 */
export const IO_TRIGGERS: readonly { io: number; kind: AlertKind; name: string }[] = [
  { io: 236, kind: 'sos', name: 'alarm' },
  { io: 247, kind: 'crash', name: 'crash' },
  { io: 246, kind: 'towing', name: 'tow' },
  { io: 252, kind: 'unplug', name: 'unplug' },
];

/** Dedup key while an alert is open or acknowledged (one per entry and kind until closed). */
export function alertKey(entry: number, kind: AlertKind): string {
  return `${entry}:${kind}`;
}

/** Per-event thresholds (events.alert_stop_s, alert_silence_s, alert_corridor_m). */
export interface Thresholds {
  /** a vehicle stopped this long inside a running special stage raises `stopped`, seconds */
  stopS: number;
  /** a device not heard this long during a stage raises `silent`, seconds */
  silenceS: number;
  /** farther than this from the stage's route raises `off_course`, metres */
  corridorM: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { stopS: 180, silenceS: 120, corridorM: 500 };
