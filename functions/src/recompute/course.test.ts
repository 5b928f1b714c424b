import { describe, expect, test } from 'vitest';
import { at } from '../core/timing/test-fixtures.ts';
import { buildStageCourse, orientLine, travelDirection, type GeofenceRow, type SpeedZoneRow, type WaypointRow } from './course.ts';

const line = (...pts: [number, number][]) => ({ type: 'LineString', coordinates: pts });
const fence = (id: number, kind: string, geometry: GeofenceRow['geometry'], extra: Partial<GeofenceRow> = {}): GeofenceRow => ({ id, stage: 1, code: `${kind}${id}`, kind, sequence: id, geometry, radius_m: null, due_offset_s: null, nominal_s: null, params: null, ...extra });
const wp = (id: number, x: number, y: number): WaypointRow => ({ id, stage: 1, code: `WP${id}`, type: 'WPV', sequence: id, point: { type: 'Point', coordinates: at(x, y) }, radius_m: 90, open_radius_m: null });

// an eastbound course: start at x = 0, waypoint at x = 2 km, finish at x = 4 km
const northToSouth = (x: number) => line(at(x, 100), at(x, -100));
const southToNorth = (x: number) => line(at(x, -100), at(x, 100));

describe('orientation (docs/timing.md, "Line orientation")', () => {
  test.each([
    ['drawn north → south, travelling east: kept', { x: 1, y: 0 }, [at(0, 100), at(0, -100)], false],
    ['drawn south → north, travelling east: reversed', { x: 1, y: 0 }, [at(0, -100), at(0, 100)], true],
    ['drawn west → east, travelling north: kept', { x: 0, y: 1 }, [at(-100, 0), at(100, 0)], false],
    ['drawn east → west, travelling north: reversed', { x: 0, y: 1 }, [at(100, 0), at(-100, 0)], true],
    ['nearly parallel to the travel (10°): kept as drawn', { x: 1, y: 0 }, [at(-100, 17.6), at(100, -17.6)], false],
    ['no direction known: kept', null, [at(0, -100), at(0, 100)], false],
  ])('%s', (_name, dir, coords, reversed) => {
    const out = orientLine(coords as [number, number][], dir);
    expect(out.reversed).toBe(reversed);
    expect(out.coordinates).toEqual(reversed ? [...coords].reverse() : coords);
  });

  test('the travel direction is the nearest route segment', () => {
    const route = [at(0, 0), at(1000, 0), at(1000, 1000)];
    expect(travelDirection(route, at(500, 10))).toMatchObject({ x: expect.closeTo(1, 6), y: expect.closeTo(0, 6) });
    expect(travelDirection(route, at(1010, 600))).toMatchObject({ x: expect.closeTo(0, 6), y: expect.closeTo(1, 6) });
  });
});

describe('buildStageCourse', () => {
  test('maps every kind, orients lines against the route and reports what it reversed', () => {
    const zones: SpeedZoneRow[] = [
      { id: 7, stage: 1, code: 'SLZ1', geometry: { type: 'Polygon', coordinates: [[at(2500, -50), at(3000, -50), at(3000, 50), at(2500, 50), at(2500, -50)]] }, start_line: null, end_line: null, limit_kmh: 50, tolerance_kmh: 5, nominal_distance_m: null },
      { id: 8, stage: 1, code: 'SLZ2', geometry: null, start_line: southToNorth(3200), end_line: northToSouth(3400), limit_kmh: 30, tolerance_kmh: 0, nominal_distance_m: 200 },
    ];
    const build = buildStageCourse({
      geofences: [
        fence(1, 'start', southToNorth(0)),
        fence(2, 'finish', northToSouth(4000)),
        fence(3, 'split', southToNorth(1000), { params: { orientation: 'as_drawn' } }),
        fence(4, 'time_control', { type: 'Point', coordinates: at(1500, 0) }, { radius_m: 50, due_offset_s: 600 }),
        fence(5, 'neutralisation_start', northToSouth(2200), { nominal_s: 900 }),
        fence(6, 'neutralisation_end', northToSouth(2400)),
        fence(9, 'neutralisation_zone', { type: 'Polygon', coordinates: [[at(3500, -50), at(3600, -50), at(3600, 50), at(3500, 50), at(3500, -50)]] }),
        fence(10, 'split', southToNorth(3000), { params: { any_direction: true } }),
      ],
      waypoints: [wp(21, 2000, 0)],
      speedZones: zones,
    });
    expect(build.ok).toBe(true);
    if (!build.ok) return;
    const c = build.course;
    expect(c.start).toEqual({ id: '1', code: 'start1', coordinates: [at(0, 100), at(0, -100)] });
    expect(c.finish.coordinates).toEqual([at(4000, 100), at(4000, -100)]);
    expect(c.splits).toEqual([
      { id: '3', code: 'split3', coordinates: [at(1000, -100), at(1000, 100)] },
      { id: '10', code: 'split10', coordinates: [at(3000, -100), at(3000, 100)], anyDirection: true },
    ]);
    expect(c.timeControls).toEqual([{ id: '4', code: 'time_control4', geometry: { type: 'circle', center: at(1500, 0), radiusM: 50 }, dueOffsetMs: 600_000 }]);
    expect(c.neutralisations).toEqual([
      { id: '9', code: 'neutralisation_zone9', area: { type: 'polygon', coordinates: [[at(3500, -50), at(3600, -50), at(3600, 50), at(3500, 50), at(3500, -50)]] } },
      { id: '5', code: 'neutralisation_start5', area: { type: 'lines', entry: [at(2200, 100), at(2200, -100)], exit: [at(2400, 100), at(2400, -100)] }, nominalDurationS: 900 },
    ]);
    expect(c.waypoints).toEqual([{ id: '21', code: 'WP21', type: 'WPV', position: at(2000, 0), radiusM: 90, sequence: 21 }]);
    expect(c.speedZones?.map((z) => [z.id, z.area.type, z.limitKmh, z.toleranceKmh, z.nominalDistanceM])).toEqual([['7', 'polygon', 50, 5, undefined], ['8', 'lines', 30, undefined, 200]]);
    expect(c.speedZones?.[1].area).toEqual({ type: 'lines', entry: [at(3200, 100), at(3200, -100)], exit: [at(3400, 100), at(3400, -100)] });
    expect(build.notes.filter((n) => n.kind === 'reoriented').map((n) => n.feature)).toEqual(['start start1 (#1)', 'speed zone SLZ2 DZ (#8)']);
  });

  test.each([
    ['no start', [fence(2, 'finish', northToSouth(4000))], 'the stage has no start line'],
    ['a finish that is a point', [fence(1, 'start', northToSouth(0)), fence(2, 'finish', { type: 'Point', coordinates: at(4000, 0) })], 'finish finish2 (#2) is not a LineString'],
  ])('%s: not computable', (_name, geofences, message) => {
    const build = buildStageCourse({ geofences, waypoints: [], speedZones: [] });
    expect(build.ok).toBe(false);
    expect(build.notes.map((n) => n.message)).toContain(message);
  });

  test('unusable features are left out and reported', () => {
    const build = buildStageCourse({
      geofences: [fence(1, 'start', northToSouth(0)), fence(2, 'finish', northToSouth(4000)), fence(3, 'time_control', { type: 'Point', coordinates: at(1, 1) }), fence(4, 'neutralisation_end', northToSouth(2000))],
      waypoints: [{ ...wp(5, 100, 0), point: null }],
      speedZones: [],
    });
    expect(build.ok && build.course.timeControls).toEqual([]);
    expect(build.notes.filter((n) => n.kind === 'unusable').map((n) => n.feature)).toEqual(['waypoint WP5 (#5)', 'time_control time_control3 (#3)', 'neutralisation_end neutralisation_end4 (#4)']);
  });
});
