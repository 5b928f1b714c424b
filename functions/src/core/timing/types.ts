/**
 * Types of the timing core: a stage course and one entry's fixes in, plain result rows out.
 * Units are in the names: `...Ms` milliseconds (instants are ms since the Unix epoch), `...Kmh`
 * km/h, `...M` metres, `...S` seconds. Coordinates are GeoJSON `[lon, lat]` degrees.
 * Rules and choices are explained in docs/timing.md.
 */
import type { LonLat } from '../geo/types.ts';

export type { LonLat };

// ---------------------------------------------------------------------------------------------
// Input: fixes

/** One position record of the entry's device (`positions` row already filtered `faulty = false`). */
export interface Fix {
  /** device time, ms since epoch */
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number;
  headingDeg?: number;
  /** false = the device had no GPS fix; such records are ignored */
  fix: boolean;
}

// ---------------------------------------------------------------------------------------------
// Input: course

/**
 * A timing line: a GeoJSON LineString of 2+ positions. Orientation matters: draw it from the
 * competitor's left to their right as seen when driving the course forward (forward travel goes
 * from the line's right-hand side to its left-hand side). Only forward crossings count, unless
 * `anyDirection` is set.
 */
export interface CourseLine {
  id: string;
  /** label, e.g. `DSS`, `SP1` */
  code?: string;
  coordinates: readonly LonLat[];
  /** count crossings in both directions (default false: forward only) */
  anyDirection?: boolean;
}

/** A zone is a polygon, or the stretch of route between an entry line and an exit line (DZ→FZ, DN→FN). */
export type ZoneArea =
  | {
      type: 'polygon';
      /** GeoJSON Polygon coordinates: outer ring, then holes */
      coordinates: readonly (readonly LonLat[])[];
    }
  | {
      type: 'lines';
      /** entry line (DZ / DN), oriented like every CourseLine */
      entry: readonly LonLat[];
      /** exit line (FZ / FN) */
      exit: readonly LonLat[];
    };

export interface SpeedZone {
  id: string;
  code?: string;
  area: ZoneArea;
  limitKmh: number;
  /** speeds up to limit + tolerance are not over the limit (default 0) */
  toleranceKmh?: number;
  /**
   * Nominal DZ→FZ distance, metres. When set, a complete passage's average speed "regardless of
   * the route taken" (FIM 80.16.2, AC-6) is nominalDistanceM / (exit − entry) and can infringe on
   * its own.
   */
  nominalDistanceM?: number;
}

export interface NeutralisationZone {
  id: string;
  code?: string;
  area: ZoneArea;
  /** fixed neutralised duration, seconds: when set, exactly this is deducted (AC-9) */
  nominalDurationS?: number;
}

export type TimeControlGeometry =
  | { type: 'line'; coordinates: readonly LonLat[]; anyDirection?: boolean }
  | { type: 'circle'; center: LonLat; radiusM: number };

export interface TimeControl {
  id: string;
  code?: string;
  geometry: TimeControlGeometry;
  /** absolute due time, ms since epoch (wins over dueOffsetMs) */
  dueMs?: number;
  /** due time as an offset from the entry's start: `options.scheduledStartMs`, else the actual start crossing */
  dueOffsetMs?: number;
}

/** Waypoint types (rally-domain.md §2.1). */
export type WaypointType = 'WPV' | 'WPM' | 'WPS' | 'WPE' | 'WPC' | 'WPN' | 'WPP';

export interface Waypoint {
  id: string;
  code?: string;
  type: WaypointType;
  position: LonLat;
  /** validation ("clear") radius, metres */
  radiusM: number;
  /** opening radius, metres (informational: reported as `opened`) */
  openRadiusM?: number;
  /** roadbook order; defaults to the index in `course.waypoints` */
  sequence?: number;
}

/** One stage's course. Arrays are taken in the order given (splits must be in course order). */
export interface StageCourse {
  start: CourseLine;
  finish: CourseLine;
  splits?: readonly CourseLine[];
  timeControls?: readonly TimeControl[];
  waypoints?: readonly Waypoint[];
  speedZones?: readonly SpeedZone[];
  neutralisations?: readonly NeutralisationZone[];
}

// ---------------------------------------------------------------------------------------------
// Options

export interface TimingOptions {
  /** no interpolation or segment validation across two fixes further apart than this (default 30 000) */
  maxInterpolationGapMs?: number;
  /** nor across two fixes whose implied speed (distance / time) exceeds this; a GPS spike (default 250) */
  maxImpliedSpeedKmh?: number;
  /** the stage is closed: a started entry without a finish is `dnf` */
  stageClosed?: boolean;
  /** "now", ms since epoch, compared with `closesAtMs` and `maxTimeMs`; never read from a clock */
  nowMs?: number;
  /** when the stage closes, ms since epoch: `nowMs >= closesAtMs` closes it */
  closesAtMs?: number;
  /** maximum stage time, ms: started, not finished and `nowMs − startMs > maxTimeMs` is `dnf` */
  maxTimeMs?: number;
  /** the entry's scheduled start, ms since epoch; base of time controls' `dueOffsetMs` */
  scheduledStartMs?: number;
  /** 'segment' (default) validates waypoints on the chord between fixes; 'point' on fixes only */
  waypointMethod?: WaypointMethod;
  /** at most this many evidence fix timestamps per speed-zone passage (default 20, minimum 4) */
  maxEvidenceFixes?: number;
}

export type WaypointMethod = 'segment' | 'point';

// ---------------------------------------------------------------------------------------------
// Output

export type StageStatus = 'finished' | 'running' | 'dnf' | 'dns';

export type LineRole = 'start' | 'finish' | 'split' | 'time_control';

/** A crossing of a start, finish, split or time-control line. Natural key: (role, lineId, atMs). */
export interface LineCrossingRow {
  role: LineRole;
  lineId: string;
  /** crossing instant, ms since epoch, interpolated between the straddling fixes and rounded */
  atMs: number;
  direction: 'forward' | 'backward';
  /** timestamps of the two fixes that straddle the line */
  beforeTs: number;
  afterTs: number;
  /** where the track meets the line, degrees */
  lon: number;
  lat: number;
}

export interface SplitTime {
  splitId: string;
  /** first forward crossing after the start (and after the previous split found), before the finish */
  crossedAtMs: number | null;
  /** crossedAtMs − startMs */
  elapsedMs: number | null;
  /** elapsedMs minus the neutralisations completed before the split */
  netElapsedMs: number | null;
}

export interface WaypointPassRow {
  waypointId: string;
  code: string | null;
  type: WaypointType;
  sequence: number;
  radiusM: number;
  validated: boolean;
  /** 'point': a fix lay within the radius; 'segment': only the chord between two fixes did; null: missed */
  method: 'point' | 'segment' | null;
  /** time of closest approach (interpolated on the chord), ms since epoch; null without fixes */
  passAtMs: number | null;
  /** closest approach, metres (rounded to 0.01); null without fixes */
  distanceM: number | null;
  /** nearest sampled fix and its distance, metres */
  nearestFixTs: number | null;
  nearestFixDistanceM: number | null;
  /** came within `openRadiusM`; null when the waypoint has none */
  opened: boolean | null;
}

export interface SpeedSample {
  atMs: number;
  speedKmh: number;
}

/**
 * One passage through a speed zone. Natural key: (zoneId, seq). Every passage is reported;
 * `infringed` passages are also listed in `speedInfringements`.
 */
export interface SpeedZonePassage {
  zoneId: string;
  code: string | null;
  /** 0-based index of the passage within the zone, in time order */
  seq: number;
  enteredAtMs: number;
  /** null while the entry is still inside (or the exit was never seen) */
  exitedAtMs: number | null;
  /** false when the boundary time is a fix time because a gap prevented interpolation */
  entryInterpolated: boolean;
  exitInterpolated: boolean;
  /** both boundaries seen; only complete passages can infringe */
  complete: boolean;
  limitKmh: number;
  toleranceKmh: number;
  /** limit + tolerance; a speed strictly above it is over the limit */
  thresholdKmh: number;
  insideFixCount: number;
  /** highest spot speed of a fix inside; null without fixes inside */
  maxSpeedKmh: number | null;
  maxSpeedAtMs: number | null;
  /** time-weighted average of the speed profile over the passage; null without fixes inside */
  avgSpeedKmh: number | null;
  /** time spent over the threshold, ms (speed interpolated linearly between fixes) */
  overMs: number;
  /** distance driven over the threshold, metres (integral of the speed profile) */
  overDistanceM: number;
  nominalDistanceM: number | null;
  /** nominalDistanceM / (exit − entry) in km/h; null without a nominal distance or interpolated boundaries */
  nominalAvgSpeedKmh: number | null;
  /** some fix inside was over the threshold */
  spotOver: boolean;
  /** the nominal average was over the threshold */
  nominalOver: boolean;
  infringed: boolean;
  /** spot speeds of the fixes inside, in time order */
  samples: SpeedSample[];
  /** evidence fix timestamps: the fixes around both boundaries and the fastest over-limit fixes, ascending */
  evidenceTs: number[];
}

export interface NeutralisationRow {
  zoneId: string;
  code: string | null;
  enteredAtMs: number | null;
  exitedAtMs: number | null;
  /** exited − entered */
  actualMs: number | null;
  nominalMs: number | null;
  /**
   * what is taken off the stage time: nominal when configured, else actual; 0 when incomplete,
   * or when there is no nominal and DN/FN fell in a gap (actual time unknown)
   */
  deductedMs: number;
  /** nominal − actual when the entry left early (> 0), else 0; null without nominal or passage */
  earlyExitMs: number | null;
  complete: boolean;
}

export interface TimeControlRow {
  controlId: string;
  code: string | null;
  /** first forward line crossing, or first entry into the circle; ms since epoch */
  arrivedAtMs: number | null;
  /** false when the arrival time is a fix time (first fix already inside, or a gap before it) */
  interpolated: boolean;
  dueMs: number | null;
  /** arrived − due (positive = late); null when either is unknown */
  deltaMs: number | null;
}

export type TimingIssueCode =
  /** a start/finish/split/TC line was crossed forward across a gap or spike: no time taken from it */
  | 'LINE_CROSSED_IN_GAP'
  /** a zone passage whose start or end was not seen */
  | 'ZONE_PASSAGE_INCOMPLETE'
  /** a nominal-distance zone passage without interpolated boundaries: no nominal average */
  | 'NOMINAL_SPEED_UNAVAILABLE'
  /** a neutralisation entered but not left, or without nominal and with a boundary in a gap (nothing deducted) */
  | 'NEUTRALISATION_INCOMPLETE';

/** Something an operator should look at; never changes a number by itself. */
export interface TimingIssue {
  code: TimingIssueCode;
  featureId: string;
  /** instants that bracket the problem, ms since epoch */
  fromTs: number | null;
  toTs: number | null;
}

export interface TrackStats {
  /** records received */
  received: number;
  /** records used after cleaning */
  used: number;
  droppedNoFix: number;
  droppedInvalid: number;
  droppedDuplicates: number;
  /** pairs of consecutive fixes too far apart in time (gap) or space (spike) to interpolate */
  gaps: number;
  spikes: number;
  firstTs: number | null;
  lastTs: number | null;
}

export interface EntryStageResult {
  status: StageStatus;
  startMs: number | null;
  finishMs: number | null;
  /** finish − start */
  rawMs: number | null;
  /** sum of deducted neutralisations (complete ones, within the stage) */
  neutralisedMs: number;
  /** rawMs − neutralisedMs; null until finished */
  netMs: number | null;
  /** rawMs > options.maxTimeMs (still `finished`; the max-time rule is a penalty) */
  overMaxTime: boolean;
  splits: SplitTime[];
  /** every trusted crossing of the start, finish, split and time-control lines, by time */
  crossings: LineCrossingRow[];
  waypoints: WaypointPassRow[];
  speedZones: SpeedZonePassage[];
  speedInfringements: SpeedZonePassage[];
  neutralisations: NeutralisationRow[];
  timeControls: TimeControlRow[];
  issues: TimingIssue[];
  track: TrackStats;
}
