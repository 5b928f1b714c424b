import { describe, expect, test } from 'vitest';
import { computeEntryStage } from './compute-entry-stage.ts';
import { LAT0, clock, fix, meridianLine } from './test-fixtures.ts';
import type { Fix, NeutralisationZone, StageCourse } from './types.ts';

// AC-9: DSS 08:00:00, DN 09:40:00, FN 09:55:00 (nominal 900 s), ASS 11:12:30 → SS time 2:57:30.
// Eastbound along 41.3°N: DSS at 19.80, DN at 19.85, FN at 19.86, ASS at 19.90. Each line is
// straddled by two fixes one second either side of it (±0.0001° ≈ 8.4 m, 30 km/h), so every
// crossing falls exactly at the middle of its pair. Between lines the fixes are hours apart:
// gaps, across which nothing is interpolated (and no line lies there).
const H = (h: number, m: number, s: number) => clock(h, m, s);

function straddle(lon: number, atMs: number): Fix[] {
  return [fix(atMs - 1000, [lon - 0.0001, LAT0], 30), fix(atMs + 1000, [lon + 0.0001, LAT0], 30)];
}

function course(zone: NeutralisationZone): StageCourse {
  return {
    start: { id: 'dss', code: 'DSS', coordinates: meridianLine(19.8) },
    finish: { id: 'ass', code: 'ASS', coordinates: meridianLine(19.9) },
    neutralisations: [zone],
  };
}

const LINES: NeutralisationZone['area'] = { type: 'lines', entry: meridianLine(19.85), exit: meridianLine(19.86) };
const POLYGON: NeutralisationZone['area'] = {
  type: 'polygon',
  coordinates: [[[19.85, 41.299], [19.86, 41.299], [19.86, 41.301], [19.85, 41.301], [19.85, 41.299]]],
};

function run(area: NeutralisationZone['area'], fnAt: number, nominalDurationS?: number) {
  const fixes = [
    ...straddle(19.8, H(8, 0, 0)),
    ...straddle(19.85, H(9, 40, 0)),
    ...straddle(19.86, fnAt),
    ...straddle(19.9, H(11, 12, 30)),
  ];
  return computeEntryStage(course({ id: 'n1', code: 'DN1', area, nominalDurationS }), fixes);
}

const S = 1000;

describe('AC-9 neutralisation', () => {
  test.each([
    // area, FN time, nominal, actual, deducted, early exit, net
    ['lines, FN 09:55:00, nominal 900 s', LINES, H(9, 55, 0), 900, 900 * S, 900 * S, 0, (2 * 3600 + 57 * 60 + 30) * S],
    ['lines, left early at 09:53:00: still only the nominal 900 s', LINES, H(9, 53, 0), 900, 780 * S, 900 * S, 120 * S, (2 * 3600 + 57 * 60 + 30) * S],
    ['lines, left late at 09:58:00: nominal 900 s', LINES, H(9, 58, 0), 900, 1080 * S, 900 * S, 0, (2 * 3600 + 57 * 60 + 30) * S],
    ['lines, no nominal, FN 09:55:00: actual 900 s', LINES, H(9, 55, 0), undefined, 900 * S, 900 * S, null, (2 * 3600 + 57 * 60 + 30) * S],
    ['lines, no nominal, FN 09:58:00: actual 1080 s → 2:54:30', LINES, H(9, 58, 0), undefined, 1080 * S, 1080 * S, null, (2 * 3600 + 54 * 60 + 30) * S],
    ['polygon, FN 09:53:00, nominal 900 s', POLYGON, H(9, 53, 0), 900, 780 * S, 900 * S, 120 * S, (2 * 3600 + 57 * 60 + 30) * S],
    ['polygon, no nominal, FN 09:55:00', POLYGON, H(9, 55, 0), undefined, 900 * S, 900 * S, null, (2 * 3600 + 57 * 60 + 30) * S],
  ] as const)('%s', (_name, area, fnAt, nominal, actual, deducted, early, net) => {
    const r = run(area, fnAt, nominal);
    expect(r.status).toBe('finished');
    expect(r.startMs).toBe(H(8, 0, 0));
    expect(r.finishMs).toBe(H(11, 12, 30));
    expect(r.rawMs).toBe((3 * 3600 + 12 * 60 + 30) * S);
    expect(r.neutralisations).toEqual([
      {
        zoneId: 'n1',
        code: 'DN1',
        enteredAtMs: H(9, 40, 0),
        exitedAtMs: fnAt,
        actualMs: actual,
        nominalMs: nominal === undefined ? null : nominal * S,
        deductedMs: deducted,
        earlyExitMs: early,
        complete: true,
      },
    ]);
    expect(r.neutralisedMs).toBe(deducted);
    expect(r.netMs).toBe(net);
    expect(r.issues).toEqual([]);
  });

  test('FN never seen (track ends inside): incomplete, nothing deducted, reported', () => {
    const fixes = [...straddle(19.8, H(8, 0, 0)), ...straddle(19.85, H(9, 40, 0))];
    const r = computeEntryStage(course({ id: 'n1', area: LINES, nominalDurationS: 900 }), fixes);
    expect(r.status).toBe('running');
    expect(r.neutralisations[0]).toMatchObject({ enteredAtMs: H(9, 40, 0), exitedAtMs: null, complete: false, deductedMs: 0 });
    expect(r.issues.map((i) => i.code)).toEqual(['NEUTRALISATION_INCOMPLETE']);
  });

  test('no nominal and FN crossed in a gap: actual time unknown → nothing deducted, reported', () => {
    const fixes = [...straddle(19.8, H(8, 0, 0)), ...straddle(19.85, H(9, 40, 0)), ...straddle(19.9, H(11, 12, 30))];
    const r = computeEntryStage(course({ id: 'n1', area: LINES }), fixes);
    expect(r.neutralisations[0]).toMatchObject({ complete: true, deductedMs: 0 });
    expect(r.netMs).toBe(r.rawMs);
    expect(r.issues.map((i) => i.code)).toEqual(['NEUTRALISATION_INCOMPLETE']);
  });

  test('a neutralisation passed before the start does not count', () => {
    const fixes = [...straddle(19.85, H(7, 0, 0)), ...straddle(19.86, H(7, 15, 0)), ...straddle(19.8, H(8, 0, 0))];
    const r = computeEntryStage(course({ id: 'n1', area: LINES, nominalDurationS: 900 }), fixes);
    expect(r.neutralisations[0]).toMatchObject({ enteredAtMs: null, deductedMs: 0, complete: false });
  });
});
