/**
 * The detector over replayed tracks on a special stage near Tirana (testing/tracks.ts): each
 * kind raised exactly once where it must, never where it must not (GPS spike, zero-speed
 * glitch, queue at the start, a neutralisation zone, liaison, before the start, after the
 * finish, faulty fixes).
 */
import { describe, expect, test } from 'vitest';
import { at } from '../../functions/src/core/timing/test-fixtures.ts';
import { Course, NeutralZones, type CourseInput, type StageKind } from './course.ts';
import { Detector, type Intent } from './detector.ts';
import { DEFAULT_THRESHOLDS } from './kinds.ts';
import { routeLonLat, toFix, Track } from './testing/tracks.ts';

const T0 = Date.UTC(2025, 5, 8, 6, 0, 0);
const IMEI = '350000000000001';
const ENTRY = 11;

/** A neutralisation zone on the route: x 8000 → 8400 m, y −100 → 100 m (a Polygon's rings). */
const ZONE = [[at(8000, -100), at(8400, -100), at(8400, 100), at(8000, 100), at(8000, -100)]];

function course(o: { kind?: StageKind; startAtMs?: number; finishAtMs?: number; eventEndsMs?: number; routes?: boolean; zones?: [number, number][][][] } = {}): Course {
  const input: CourseInput = {
    events: [{ id: 1, startsAtMs: T0 - 3_600_000, endsAtMs: o.eventEndsMs ?? T0 + 10 * 3_600_000, thresholds: DEFAULT_THRESHOLDS }],
    stages: [{ id: 5, event: 1, kind: o.kind ?? 'special', status: 'running', plannedStartMs: T0, closesAtMs: T0 + 4 * 3_600_000, routes: o.routes === false ? [] : [routeLonLat()], routeVersion: 'v1', neutralZones: o.zones ?? [ZONE] }],
    entries: [{ id: ENTRY, event: 1, number: 7, imei: IMEI, startAtMs: new Map([[5, o.startAtMs ?? T0]]), finishAtMs: o.finishAtMs ? new Map([[5, o.finishAtMs]]) : new Map() }],
  };
  return new Course(input);
}

interface Scenario {
  name: string;
  track: Track;
  /** extra clock ticks (absolute ms); a tick also follows every record */
  ticks?: number[];
  course?: Course;
  faultyTs?: number[];
  opens: string[];
  closes?: string[];
}

/** Replays records (received 300 ms after their device time) and ticks in time order. */
function replay(s: Scenario): Intent[] {
  const d = new Detector(s.course ?? course());
  const faulty = new Set(s.faultyTs ?? []);
  const events = [
    ...s.track.points.map((p) => ({ at: p.tsMs + 300, fix: { ...toFix(p, IMEI), faulty: faulty.has(p.tsMs) } })),
    ...(s.ticks ?? []).map((at) => ({ at, fix: null })),
  ].sort((a, b) => a.at - b.at);
  const out: Intent[] = [];
  for (const e of events) {
    if (e.fix) out.push(...d.ingest(e.fix));
    out.push(...d.tick(e.at + 1000));
  }
  return out;
}

const kinds = (intents: Intent[], type: 'open' | 'close') => intents.filter((i) => i.type === type).map((i) => i.kind).sort();

const scenarios: Scenario[] = [
  { name: 'a clean run raises nothing', track: new Track(T0, 0).drive(10_000, 0, 90), opens: [] },
  { name: 'SOS: panic records (priority 2) of one press raise one sos', track: new Track(T0, 0).drive(3000, 0, 90).record({ priority: 2 }).drive(3040, 0, 10).record({ priority: 2 }).drive(4000, 0, 90), opens: ['sos'] },
  { name: 'SOS: the alarm IO 236 event record raises sos', track: new Track(T0, 0).drive(3000, 0, 90).record({ eventIo: 236, io: { 236: 1 } }).drive(4000, 0, 90), opens: ['sos'] },
  { name: 'crash IO 247 raises crash once', track: new Track(T0, 0).drive(3000, 0, 90).record({ eventIo: 247, io: { 247: 1 } }).drive(3500, 0, 60), opens: ['crash'] },
  { name: 'towing IO 246 raises towing', track: new Track(T0, 0).drive(3000, 0, 90).record({ eventIo: 246, io: { 246: 1 } }).drive(3500, 0, 20), opens: ['towing'] },
  { name: 'unplug IO 252 going 0 → 1 raises unplug (periodic records)', track: new Track(T0, 0).drive(1000, 0, 90).patchLast({ io: { 252: 0 } }).drive(1500, 0, 90).patchLast({ io: { 252: 1 } }).drive(2000, 0, 90).patchLast({ io: { 252: 1 } }), opens: ['unplug'] },
  { name: 'IO 247 = 0 on an event record raises nothing', track: new Track(T0, 0).drive(3000, 0, 90).record({ eventIo: 247, io: { 247: 0 } }).drive(3500, 0, 90), opens: [] },
  { name: 'stopped 4 min in the stage: raised once, closed when moving again', track: new Track(T0, 0).drive(3000, 0, 80).stay(240_000).drive(6000, 0, 80), opens: ['stopped'], closes: ['stopped'] },
  { name: 'a 2-minute stop stays below alert_stop_s', track: new Track(T0, 0).drive(3000, 0, 80).stay(120_000).drive(6000, 0, 80), opens: [] },
  { name: 'a zero-speed glitch while driving raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).patchLast({ speedKmh: 0 }).drive(6000, 0, 80), opens: [] },
  { name: 'waiting 5 min at the start control raises nothing', track: new Track(T0 - 300_000, 60).stay(300_000).drive(3000, 0, 80), course: course({ startAtMs: T0 - 600_000 }), opens: [] },
  { name: 'a 5-minute stop inside a neutralisation zone raises nothing', track: new Track(T0, 0).drive(8200, 0, 80).stay(300_000).drive(10_000, 0, 80), opens: [] },
  { name: 'the same stop 100 m past the neutralisation zone raises stopped', track: new Track(T0, 0).drive(8500, 0, 80).stay(300_000).drive(10_000, 0, 80), opens: ['stopped'], closes: ['stopped'] },
  { name: 'the same stop where a stage has no neutralisation zone raises stopped', track: new Track(T0, 0).drive(8200, 0, 80).stay(300_000).drive(10_000, 0, 80), course: course({ zones: [] }), opens: ['stopped'], closes: ['stopped'] },
  { name: 'stopped before the entry’s start time raises nothing', track: new Track(T0, 3000).stay(400_000), course: course({ startAtMs: T0 + 3_600_000 }), opens: [] },
  { name: 'stopped after the entry finished raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).stay(400_000), course: course({ finishAtMs: T0 + 200_000 }), opens: [] },
  { name: 'stopped on a liaison raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).stay(400_000), course: course({ kind: 'liaison' }), opens: [] },
  { name: 'off course: 1 km north for a minute, raised once, closed back on course', track: new Track(T0, 0).drive(3000, 0, 80).drive(3000, 1000, 60).drive(4500, 1000, 60).drive(4500, 0, 60).drive(6000, 0, 80), opens: ['off_course'], closes: ['off_course'] },
  { name: 'a GPS spike 5 km off the course raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).patchLast({ y: 5000 }).drive(6000, 0, 80), opens: [] },
  { name: 'two spikes in a row raise nothing', track: new Track(T0, 0).drive(3000, 0, 80).patchLast({ y: 5000 }).drive(3030, 0, 80).patchLast({ y: -4000 }).drive(6000, 0, 80), opens: [] },
  { name: 'a fix without GPS at 0,0 raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).record({ sats: 0, x: -1_650_000, y: -4_590_000 }).drive(6000, 0, 80), opens: [] },
  { name: 'silent: nothing heard for 130 s during the stage, raised once, closed when heard', track: new Track(T0, 0).drive(3000, 0, 80).silence(300_000).drive(3100, 0, 80), ticks: [T0 + 150_000, T0 + 200_000, T0 + 250_000, T0 + 300_000], opens: ['silent'], closes: ['silent'] },
  { name: 'silence shorter than alert_silence_s raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).silence(100_000).drive(3100, 0, 80), ticks: [T0 + 190_000, T0 + 220_000], opens: [] },
  { name: 'SOS then silence: one sos and one silent, no duplicates', track: new Track(T0, 0).drive(3000, 0, 80).record({ priority: 2 }), ticks: [T0 + 160_000, T0 + 200_000, T0 + 260_000, T0 + 400_000, T0 + 900_000], opens: ['silent', 'sos'] },
  { name: 'faulty-flagged panic record raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).record({ priority: 2 }).drive(3500, 0, 80), faultyTs: [T0 + 135_000], opens: [] },
  { name: 'an SOS outside the event window raises nothing', track: new Track(T0, 0).drive(3000, 0, 80).record({ priority: 2 }), course: course({ eventEndsMs: T0 }), opens: [] },
  { name: 'no route: stopped still raised, off course never', track: new Track(T0, 0).drive(3000, 0, 80).drive(3000, 2000, 80).stay(200_000), course: course({ routes: false }), opens: ['stopped'] },
];

describe('detector over replayed tracks', () => {
  test.each(scenarios)('$name', (s) => {
    const intents = replay(s);
    expect(kinds(intents, 'open')).toEqual([...s.opens].sort());
    expect(kinds(intents, 'close')).toEqual([...(s.closes ?? [])].sort());
  });

  test('the faulty-flag case is about the panic record itself', () => {
    const track = new Track(T0, 0).drive(3000, 0, 80).record({ priority: 2 });
    expect(track.points.at(-1)!.tsMs).toBe(T0 + 135_000);
  });

  test('an open intent carries the dedup key, severity, stage, position and evidence fixes', () => {
    const [sos] = replay({ name: '', track: new Track(T0, 0).drive(3000, 0, 80).record({ priority: 2, io: { 236: 0 } }), opens: [] });
    expect(sos).toMatchObject({ type: 'open', key: `${ENTRY}:sos`, kind: 'sos', severity: 'critical', entry: ENTRY, event: 1, stage: 5, device: IMEI, atMs: T0 + 135_000 });
    expect(sos.type === 'open' && sos.evidence.fixes).toHaveLength(1);
    expect(sos.type === 'open' && sos.evidence.rule).toContain('priority 2');
    expect(sos.type === 'open' && sos.position!.lon).toBeCloseTo(19.8 + 3000 / 83_536.88, 6);
  });

  test('stopped evidence: first and last still fixes, the duration and the threshold', () => {
    const [stopped] = replay({ name: '', track: new Track(T0, 0).drive(3000, 0, 80).stay(240_000), opens: [] });
    expect(stopped).toMatchObject({ type: 'open', kind: 'stopped', severity: 'high', evidence: { threshold: 180, duration_s: 180 } });
    expect(stopped.type === 'open' && stopped.evidence.fixes).toHaveLength(2);
  });

  test('off-course evidence names the distance; a corridor of 2 km keeps the same detour on course', () => {
    const track = () => new Track(T0, 0).drive(3000, 0, 80).drive(3000, 1000, 60).drive(4500, 1000, 60).drive(4500, 0, 60);
    const [off] = replay({ name: '', track: track(), opens: [] });
    expect(off).toMatchObject({ kind: 'off_course', evidence: { threshold: 500 } });
    expect(off.type === 'open' && off.evidence.distance_m).toBeGreaterThan(500);
    const wide = new Course({ events: [{ id: 1, startsAtMs: null, endsAtMs: null, thresholds: { ...DEFAULT_THRESHOLDS, corridorM: 2000 } }], stages: [{ id: 5, event: 1, kind: 'special', status: 'running', plannedStartMs: T0, closesAtMs: null, routes: [routeLonLat()], routeVersion: 'v1', neutralZones: [] }], entries: [{ id: ENTRY, event: 1, number: 7, imei: IMEI, startAtMs: new Map(), finishAtMs: new Map() }] });
    expect(replay({ name: '', track: track(), course: wide, opens: [] })).toEqual([]);
  });

  test('an open stopped alert closes when the vehicle creeps into a neutralisation zone', () => {
    const d = new Detector(course());
    // stopped 30 m short of the zone, then rolling on at 3 km/h (slow, still within 50 m of the anchor)
    const fixes = new Track(T0, 0).drive(7970, 0, 80).stay(240_000).drive(8030, 0, 3).points.map((p) => toFix(p, IMEI));
    const intents = fixes.flatMap((f) => d.ingest(f));
    expect(intents.map((i) => `${i.type}:${i.kind}`)).toEqual(['open:stopped', 'close:stopped']);
    const closed = intents[1];
    expect(closed.type === 'close' && closed.reason).toBe('reached a neutralisation zone');
    expect(closed.atMs).toBe(fixes.find((f) => f.lon >= at(8000, 0)[0])!.tsMs);
  });

  test('an open stopped alert closes once a neutralisation zone is drawn around the vehicle (course refresh)', () => {
    const d = new Detector(course({ zones: [] }));
    const track = new Track(T0, 0).drive(8200, 0, 80).stay(240_000);
    expect(track.points.flatMap((p) => d.ingest(toFix(p, IMEI))).map((i) => `${i.type}:${i.kind}`)).toEqual(['open:stopped']);
    d.setCourse(course());
    const more = track.stay(10_000).points.slice(-2).map((p) => toFix(p, IMEI));
    expect(more.flatMap((f) => d.ingest(f)).map((i) => `${i.type}:${i.kind}`)).toEqual(['close:stopped']);
  });

  test.each([
    { name: 'inside', x: 8050, y: 0, inside: true },
    { name: 'just past the east edge', x: 8410, y: 0, inside: false },
    { name: 'north of it', x: 8200, y: 150, inside: false },
    { name: 'in a hole of it', x: 8200, y: 20, inside: false },
  ])('NeutralZones: a point $name', ({ x, y, inside }) => {
    const hole = [at(8150, -30), at(8250, -30), at(8250, 30), at(8150, 30)];
    expect(new NeutralZones([[...ZONE, hole]]).contains(...at(x, y))).toBe(inside);
  });

  test('NeutralZones: degenerate polygons are left out', () => {
    expect(new NeutralZones([[], [[at(0, 0), at(10, 0)]]]).size).toBe(0);
  });

  test('reset() after a flag-closed alert lets the same kind be raised again', () => {
    const d = new Detector(course());
    const fixes = new Track(T0, 0).drive(3000, 0, 80).record({ priority: 2 }).points.map((p) => toFix(p, IMEI));
    expect(fixes.flatMap((f) => d.ingest(f)).map((i) => i.kind)).toEqual(['sos']);
    const again = { ...fixes.at(-1)!, tsMs: fixes.at(-1)!.tsMs + 1000 };
    expect(d.ingest(again)).toEqual([]); // same press (debounce)
    d.reset(ENTRY, 'sos');
    expect(d.ingest({ ...again, tsMs: again.tsMs + 1000 }).map((i) => i.kind)).toEqual(['sos']);
  });

  test('a device in two live events raises one alert per entry', () => {
    const two = new Course({
      events: [1, 2].map((id) => ({ id, startsAtMs: null, endsAtMs: null, thresholds: DEFAULT_THRESHOLDS })),
      stages: [],
      entries: [{ id: 11, event: 1, number: 7, imei: IMEI, startAtMs: new Map(), finishAtMs: new Map() }, { id: 12, event: 2, number: 7, imei: IMEI, startAtMs: new Map(), finishAtMs: new Map() }],
    });
    const d = new Detector(two);
    expect(d.ingest(toFix({ tsMs: T0, x: 0, y: 0, speedKmh: 0, priority: 2 }, IMEI)).map((i) => i.key).sort()).toEqual(['11:sos', '12:sos']);
  });

  test('a restarted detector seeded with the last heard record still raises silent', () => {
    const d = new Detector(course());
    d.seedHeard(toFix({ tsMs: T0 + 10_000, x: 3000, y: 0, speedKmh: 50 }, IMEI));
    expect(d.tick(T0 + 100_000)).toEqual([]);
    expect(d.tick(T0 + 131_000).map((i) => `${i.type}:${i.kind}`)).toEqual(['open:silent']);
    expect(d.tick(T0 + 200_000)).toEqual([]);
  });
});
