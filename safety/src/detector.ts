/**
 * The safety detector: per-entry state machines fed with fixes and a clock tick, producing
 * open/close intents with the fixes that are their evidence. Pure: no I/O, no clock (time comes
 * in as device time on fixes and `nowMs` on ticks). docs/safety.md explains every rule.
 *
 * Per entry (a device assigned to entries in several live events drives each of them):
 *
 *   latched (sos, crash, towing, unplug), per record:
 *     priority 2, or IO 236/247/246/252 turning non-zero (an event record of that IO, or the
 *     value going 0 → n) ──▶ OPEN, unless the same kind fired less than LATCH_DEBOUNCE_MS
 *     earlier (one button press = several panic records). Never closed here.
 *
 *   stopped (special/prologue stage running, entry started and not finished, outside the
 *   start/finish control zones and the stage's neutralisation zones):
 *     MOVING ─fix ≤ STOP_SPEED_KMH─▶ STILL(anchor) ─still ≥ stopS (≥ 2 fixes)─▶ STOPPED: OPEN
 *       ▲          fast fix or > STOP_RADIUS_M from the anchor │                  │
 *       └──────────────────────────────────────────────────────┴── CLOSE ◀───────┘
 *
 *   off_course (any running stage with a route):
 *     ON ─fix > corridorM─▶ LEAVING ─≥ OFF_MIN_FIXES over ≥ OFF_MIN_SPAN_MS─▶ OFF: OPEN
 *      ▲     fix inside ──┘                       OFF ─BACK_ON_FIXES inside─▶ ON: CLOSE
 *
 *   silent (tick; a stage running for the entry at nowMs):
 *     HEARD ─now − last receive ≥ silenceS─▶ SILENT: OPEN ─any record─▶ HEARD: CLOSE
 *
 * Position rules ignore fixes without GPS, fixes older than the last accepted one (buffered
 * uploads out of order) and implausible jumps (a GPS spike: the implied speed from the last
 * accepted fix above MAX_PLAUSIBLE_KMH; the third such fix in a row is believed). Faulty-flagged
 * fixes are ignored entirely: they neither raise nor keep (close) anything.
 */
import { haversineM } from '../../functions/src/core/geo/index.ts';
import type { Course, EntryDef, StageContext } from './course.ts';
import type { Fix } from './fix.ts';
import { alertKey, IO_TRIGGERS, PRIORITY_PANIC, SEVERITY, type AlertKind, type Severity } from './kinds.ts';

export const STOP_SPEED_KMH = 5;
/** metres a stopped vehicle's fixes may wander (GPS noise) */
export const STOP_RADIUS_M = 50;
/** stops this close to a stage route's first or last point are queues at the controls, metres */
export const CONTROL_ZONE_M = 200;
export const OFF_MIN_FIXES = 3;
export const OFF_MIN_SPAN_MS = 5_000;
export const BACK_ON_FIXES = 2;
export const MAX_PLAUSIBLE_KMH = 300;
/** metres of GPS noise forgiven before the implied speed is computed */
const JUMP_SLACK_M = 30;
const MAX_SPIKES_IN_A_ROW = 2;
export const LATCH_DEBOUNCE_MS = 60_000;
const MAX_EVIDENCE_FIXES = 10;

export interface EvidenceFix {
  ts: string;
  rx: string;
  lat: number;
  lon: number;
  speed: number;
  heading: number;
  sats: number;
  priority: number;
  event: number;
  io?: Record<string, number>;
}

export interface Evidence {
  /** the rule that fired, in words */
  rule: string;
  /** the fixes that raised the alert (all faulty-flagged later → the alert is closed) */
  fixes: EvidenceFix[];
  threshold?: number;
  duration_s?: number;
  distance_m?: number;
  max_distance_m?: number;
  silence_s?: number;
}

export interface OpenIntent {
  type: 'open';
  key: string;
  kind: AlertKind;
  severity: Severity;
  entry: number;
  event: number;
  stage: number | null;
  device: string;
  /** device time of the triggering fix, or the tick time for silent */
  atMs: number;
  position: { lat: number; lon: number } | null;
  evidence: Evidence;
}

export interface CloseIntent {
  type: 'close';
  key: string;
  kind: AlertKind;
  entry: number;
  event: number;
  device: string;
  atMs: number;
  reason: string;
}

export type Intent = OpenIntent | CloseIntent;

interface EntryState {
  imei: string;
  /** server receive time of the latest record, ms */
  lastHeardMs: number | null;
  lastHeard: Fix | null;
  /** latest valid, plausible fix (device time order) */
  accepted: Fix | null;
  spikes: number;
  io: Map<number, number>;
  latchedAt: Map<AlertKind, number>;
  stop: { anchor: Fix; first: Fix; last: Fix; count: number } | null;
  stopped: boolean;
  off: { first: Fix; fixes: Fix[]; count: number; maxM: number } | null;
  offCourse: boolean;
  backOn: number;
  silent: boolean;
}

export class Detector {
  private course: Course;
  private readonly states = new Map<number, EntryState>();

  constructor(course: Course) {
    this.course = course;
  }

  /** A refreshed course; the state of entries no longer in it is dropped. */
  setCourse(course: Course): void {
    this.course = course;
    for (const id of this.states.keys()) if (!course.entry(id)) this.states.delete(id);
  }

  get tracked(): number {
    return this.states.size;
  }

  /** The last record heard from a device before a restart (silence continues from it). */
  seedHeard(fix: Fix): void {
    for (const entry of this.course.entriesOf(fix.imei, fix.tsMs)) {
      const st = this.state(entry);
      if (st.lastHeardMs === null || fix.rxMs > st.lastHeardMs) {
        st.lastHeardMs = fix.rxMs;
        st.lastHeard = fix;
      }
      if (fix.valid && (!st.accepted || fix.tsMs > st.accepted.tsMs)) st.accepted = fix;
    }
  }

  /** Forget an episode whose alert was closed from outside (flags): it may be raised again. */
  reset(entry: number, kind: AlertKind): void {
    const st = this.states.get(entry);
    if (!st) return;
    if (kind === 'stopped') {
      st.stop = null;
      st.stopped = false;
    } else if (kind === 'off_course') {
      st.off = null;
      st.offCourse = false;
      st.backOn = 0;
    } else if (kind === 'silent') st.silent = false;
    else st.latchedAt.delete(kind);
  }

  ingest(fix: Fix): Intent[] {
    if (fix.faulty) return [];
    const out: Intent[] = [];
    for (const entry of this.course.entriesOf(fix.imei, fix.tsMs)) {
      const st = this.state(entry);
      if (st.lastHeardMs === null || fix.rxMs >= st.lastHeardMs) {
        st.lastHeardMs = fix.rxMs;
        st.lastHeard = fix;
      }
      if (st.silent) {
        st.silent = false;
        out.push(close(entry, 'silent', fix.tsMs, 'heard again'));
      }
      const ctx = this.course.stageAt(entry, fix.tsMs);
      this.latched(entry, st, fix, ctx, out);
      this.positional(entry, st, fix, ctx, out);
    }
    return out;
  }

  tick(nowMs: number): Intent[] {
    const out: Intent[] = [];
    for (const entry of this.course.allEntries()) {
      const st = this.states.get(entry.id);
      if (!st || st.lastHeardMs === null || st.silent) continue;
      if (!this.course.eventLive(entry.event, nowMs)) continue;
      const ctx = this.course.stageAt(entry, nowMs);
      if (!ctx) continue;
      const { silenceS } = this.course.thresholds(entry.event);
      const silenceMs = nowMs - st.lastHeardMs;
      if (silenceMs < silenceS * 1000) continue;
      st.silent = true;
      out.push(open(entry, 'silent', ctx, nowMs, st.accepted, {
        rule: `nothing heard for ≥ ${silenceS} s during a stage`,
        fixes: st.lastHeard ? [evidenceFix(st.lastHeard, false)] : [],
        threshold: silenceS,
        silence_s: Math.floor(silenceMs / 1000),
      }));
    }
    return out;
  }

  private state(entry: EntryDef): EntryState {
    let st = this.states.get(entry.id);
    if (!st) {
      st = { imei: entry.imei, lastHeardMs: null, lastHeard: null, accepted: null, spikes: 0, io: new Map(), latchedAt: new Map(), stop: null, stopped: false, off: null, offCourse: false, backOn: 0, silent: false };
      this.states.set(entry.id, st);
    }
    return st;
  }

  private latched(entry: EntryDef, st: EntryState, fix: Fix, ctx: StageContext | null, out: Intent[]): void {
    const rules = new Map<AlertKind, string[]>();
    const add = (kind: AlertKind, rule: string) => rules.set(kind, [...(rules.get(kind) ?? []), rule]);
    if (fix.priority === PRIORITY_PANIC) add('sos', 'priority 2 (panic record)');
    for (const t of IO_TRIGGERS) {
      const value = fix.io[String(t.io)];
      if (value === undefined) continue;
      const previous = st.io.get(t.io);
      st.io.set(t.io, value);
      if (value !== 0 && (fix.eventIo === t.io || previous === 0)) add(t.kind, `io ${t.io} (${t.name}) = ${value}`);
    }
    for (const [kind, why] of rules) {
      const last = st.latchedAt.get(kind);
      st.latchedAt.set(kind, last === undefined ? fix.tsMs : Math.max(last, fix.tsMs));
      if (last !== undefined && Math.abs(fix.tsMs - last) < LATCH_DEBOUNCE_MS) continue;
      const where = fix.valid ? fix : st.accepted;
      out.push(open(entry, kind, ctx, fix.tsMs, where, { rule: why.join('; '), fixes: [evidenceFix(fix, true)] }));
    }
  }

  private positional(entry: EntryDef, st: EntryState, fix: Fix, ctx: StageContext | null, out: Intent[]): void {
    if (!fix.valid) return;
    const prev = st.accepted;
    if (prev && fix.tsMs <= prev.tsMs) return;
    if (prev && implausible(prev, fix) && st.spikes < MAX_SPIKES_IN_A_ROW) {
      st.spikes++;
      return;
    }
    st.spikes = 0;
    st.accepted = fix;
    if (!ctx) {
      // out of any running stage: episodes end here; open alerts stay for the officials
      st.stop = null;
      st.stopped = false;
      st.off = null;
      st.offCourse = false;
      st.backOn = 0;
      return;
    }
    const thr = this.course.thresholds(entry.event);
    this.stopRule(entry, st, fix, ctx, thr.stopS, out);
    this.corridorRule(entry, st, fix, ctx, thr.corridorM, out);
  }

  private stopRule(entry: EntryDef, st: EntryState, fix: Fix, ctx: StageContext, stopS: number, out: Intent[]): void {
    const zone = stopExcludedZone(ctx, fix);
    const capable = ctx.stage.kind !== 'liaison' && zone === null;
    const slow = fix.speedKmh <= STOP_SPEED_KMH;
    if (capable && slow && st.stop && haversineM([st.stop.anchor.lon, st.stop.anchor.lat], [fix.lon, fix.lat]) <= STOP_RADIUS_M) {
      st.stop.last = fix;
      st.stop.count++;
      const durationMs = fix.tsMs - st.stop.first.tsMs;
      if (!st.stopped && durationMs >= stopS * 1000) {
        st.stopped = true;
        out.push(open(entry, 'stopped', ctx, fix.tsMs, fix, {
          rule: `speed ≤ ${STOP_SPEED_KMH} km/h within ${STOP_RADIUS_M} m for ≥ ${stopS} s in a special stage`,
          fixes: [evidenceFix(st.stop.first, false), evidenceFix(fix, false)],
          threshold: stopS,
          duration_s: Math.floor(durationMs / 1000),
        }));
      }
      return;
    }
    if (st.stopped) out.push(close(entry, 'stopped', fix.tsMs, zone === null ? 'moving again' : `reached a ${zone} zone`));
    st.stopped = false;
    st.stop = capable && slow ? { anchor: fix, first: fix, last: fix, count: 1 } : null;
  }

  private corridorRule(entry: EntryDef, st: EntryState, fix: Fix, ctx: StageContext, corridorM: number, out: Intent[]): void {
    if (ctx.corridor.empty) return;
    const d = ctx.corridor.distanceM(fix.lon, fix.lat);
    if (d > corridorM) {
      st.backOn = 0;
      st.off ??= { first: fix, fixes: [], count: 0, maxM: 0 };
      const off = st.off;
      off.count++;
      off.maxM = Math.max(off.maxM, d);
      if (off.fixes.length < MAX_EVIDENCE_FIXES) off.fixes.push(fix);
      if (!st.offCourse && off.count >= OFF_MIN_FIXES && fix.tsMs - off.first.tsMs >= OFF_MIN_SPAN_MS) {
        st.offCourse = true;
        out.push(open(entry, 'off_course', ctx, fix.tsMs, fix, {
          rule: `farther than ${corridorM} m from the stage route on ≥ ${OFF_MIN_FIXES} fixes over ≥ ${OFF_MIN_SPAN_MS / 1000} s`,
          fixes: off.fixes.map((f) => evidenceFix(f, false)),
          threshold: corridorM,
          distance_m: Math.round(d),
          max_distance_m: Math.round(off.maxM),
        }));
      }
      return;
    }
    st.off = null;
    if (!st.offCourse) return;
    st.backOn++;
    if (st.backOn < BACK_ON_FIXES) return;
    st.offCourse = false;
    st.backOn = 0;
    out.push(close(entry, 'off_course', fix.tsMs, 'back on course'));
  }
}

function implausible(a: Fix, b: Fix): boolean {
  const dtS = (b.tsMs - a.tsMs) / 1000;
  const metres = haversineM([a.lon, a.lat], [b.lon, b.lat]) - JUMP_SLACK_M;
  return metres > 0 && (metres / dtS) * 3.6 > MAX_PLAUSIBLE_KMH;
}

/** Where a stop is expected, not an incident: a start/finish control zone or a neutralisation zone (geofence). */
function stopExcludedZone(ctx: StageContext, fix: Fix): 'control' | 'neutralisation' | null {
  const p = [fix.lon, fix.lat];
  const { start, finish } = ctx.corridor;
  if ((start !== null && haversineM(start, p) <= CONTROL_ZONE_M) || (finish !== null && haversineM(finish, p) <= CONTROL_ZONE_M)) return 'control';
  return ctx.neutralZones.contains(fix.lon, fix.lat) ? 'neutralisation' : null;
}

function open(entry: EntryDef, kind: AlertKind, ctx: StageContext | null, atMs: number, where: Fix | null, evidence: Evidence): OpenIntent {
  return {
    type: 'open',
    key: alertKey(entry.id, kind),
    kind,
    severity: SEVERITY[kind],
    entry: entry.id,
    event: entry.event,
    stage: ctx?.stage.id ?? null,
    device: entry.imei,
    atMs,
    position: where ? { lat: where.lat, lon: where.lon } : null,
    evidence,
  };
}

function close(entry: EntryDef, kind: AlertKind, atMs: number, reason: string): CloseIntent {
  return { type: 'close', key: alertKey(entry.id, kind), kind, entry: entry.id, event: entry.event, device: entry.imei, atMs, reason };
}

export function evidenceFix(f: Fix, withIo: boolean): EvidenceFix {
  return {
    ts: new Date(f.tsMs).toISOString(),
    rx: new Date(f.rxMs).toISOString(),
    lat: f.lat,
    lon: f.lon,
    speed: f.speedKmh,
    heading: f.heading,
    sats: f.sats,
    priority: f.priority,
    event: f.eventIo,
    ...(withIo && Object.keys(f.io).length ? { io: f.io } : {}),
  };
}
