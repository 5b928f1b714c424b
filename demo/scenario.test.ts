import { describe, expect, test } from 'vitest';
import { computeEntryStage } from '../functions/src/core/timing/index.ts';
import { courseGeometry, MARKS, ROUTE_LENGTH_M } from './course.ts';
import { DEMO_ENTRIES, entryTrack } from './scenario.ts';

const g = courseGeometry();
const course = {
  start: { id: 'start', coordinates: g.start.coordinates },
  finish: { id: 'finish', coordinates: g.finish.coordinates },
  splits: [{ id: 'split', coordinates: g.split.coordinates }],
  waypoints: g.waypoints.map((w) => ({ id: w.code, type: w.type, position: w.point.coordinates, radiusM: w.radiusM })),
  timeControls: [{ id: 'TC0', geometry: { type: 'circle' as const, center: g.timeControl.coordinates, radiusM: MARKS.timeControlRadiusM }, dueOffsetMs: 0 }],
  speedZones: [{ id: 'SLZ1', area: { type: 'polygon' as const, coordinates: g.slz.coordinates }, limitKmh: MARKS.slzLimitKmh }],
};

describe('demo scenario against the timing core', () => {
  test('the stage is about 7 km long', () => {
    expect(ROUTE_LENGTH_M).toBeGreaterThan(6_000);
    expect(ROUTE_LENGTH_M).toBeLessThan(9_000);
  });

  test.each(DEMO_ENTRIES)('entry #$number gets the result its profile implies', (e) => {
    const startAt = Date.UTC(2026, 5, 1, 8, 0, 0);
    const fixes = entryTrack(e, startAt).map((f) => ({ ts: f.tsMs, lat: f.lat, lon: f.lon, speedKmh: f.speedKmh, headingDeg: f.headingDeg, fix: true }));
    const result = computeEntryStage(course as never, fixes, { stageClosed: true, scheduledStartMs: startAt });
    // the start control is reached a few seconds after the start minute: on time, not early
    const tc = result.timeControls[0];
    expect(tc.deltaMs).toBeGreaterThan(0);
    expect(tc.deltaMs).toBeLessThan(10_000);
    expect(Math.floor(tc.arrivedAtMs! / 60_000)).toBe(Math.floor(startAt / 60_000));
    if (e.retiresAtM) {
      expect(result.status).toBe('dnf');
    } else {
      expect(result.status).toBe('finished');
      expect(result.rawMs).toBeGreaterThan(0);
      expect(result.waypoints.every((w) => w.validated)).toBe(true);
    }
    const speeding = e.zoneKmh > MARKS.slzLimitKmh;
    expect(result.speedInfringements.length).toBe(speeding ? 1 : 0);
  });
});
