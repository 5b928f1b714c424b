import { expect, test } from 'vitest';
import { decodePacket } from '../../ingest-daemon/src/codec/decode.ts';
import { encodeAvlPacket } from './avl-encoder.ts';
import { parseGeoJson, parseGpx, parseTrack, RoutePlayer, syntheticLoop } from './route.ts';

const geojson = JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates: [[19.8, 41.3, 100], [19.81, 41.3, 120]] } }] });
const gpx = `<gpx><trk><trkseg><trkpt lat="41.3" lon="19.8"><ele>100</ele></trkpt><trkpt lat="41.31" lon="19.8"/></trkseg></trk></gpx>`;

test.each([
  ['GeoJSON FeatureCollection', geojson, [{ lon: 19.8, lat: 41.3, altitudeM: 100 }, { lon: 19.81, lat: 41.3, altitudeM: 120 }]],
  ['GPX', gpx, [{ lon: 19.8, lat: 41.3, altitudeM: 100 }, { lon: 19.8, lat: 41.31, altitudeM: 0 }]],
])('parses a %s track', (_name, text, points) => {
  expect(parseTrack(text)).toEqual(points);
});

test('refuses a track with fewer than 2 points', () => {
  expect(() => parseGeoJson('{"type":"LineString","coordinates":[[1,2]]}')).toThrow();
  expect(() => parseGpx('<gpx></gpx>')).toThrow();
});

test('the player interpolates, loops and gives the bearing', () => {
  const player = new RoutePlayer(parseGeoJson(geojson));
  expect(player.lengthM).toBeGreaterThan(800);
  expect(player.lengthM).toBeLessThan(900);
  const mid = player.at(player.lengthM / 2);
  expect(mid.lon).toBeCloseTo(19.805, 6);
  expect(mid.altitudeM).toBeCloseTo(110, 6);
  expect(mid.headingDeg).toBe(90);
  expect(player.at(player.lengthM * 3 + 1).lon).toBeCloseTo(player.at(1).lon, 9);
});

test('a synthetic loop replayed through the encoder decodes inside the invariants', () => {
  const player = new RoutePlayer(syntheticLoop());
  const now = Date.now();
  const records = Array.from({ length: 50 }, (_, k) => ({ timestampMs: now - 50_000 + k * 1000, satellites: 9, speedKmh: 90, ...player.at(k * 25) }));
  const d = decodePacket(encodeAvlPacket('8', records), { nowMs: now });
  expect(d.rejected).toEqual([]);
  expect(d.records.map((r) => r.headingDeg).every((h) => h >= 0 && h <= 360)).toBe(true);
  expect(d.records[10].lat).toBeCloseTo(records[10].lat, 6);
});
