/**
 * The course of an event as Leaflet layers, from its Directus rows (GeoJSON geometries, lon/lat):
 * segments (the route), geofences (start, split, finish, time controls, neutralisations),
 * waypoints with their validation radius, speed-limit zones.
 */
import * as L from '/vendor/leaflet/leaflet-src.esm.js';

const GEOFENCE_STYLE = {
  start: { color: '#2b8a3e', weight: 6 },
  finish: { color: '#c92a2a', weight: 6 },
  split: { color: '#e67700', weight: 5 },
  time_control: { color: '#7048e8', weight: 4 },
  neutralisation_zone: { color: '#868e96', weight: 1, fillOpacity: 0.15 },
  neutralisation_start: { color: '#868e96', weight: 4 },
  neutralisation_end: { color: '#868e96', weight: 4 },
};

const WAYPOINT_COLOR = { WPV: '#1971c2', WPM: '#0c8599', WPS: '#5f3dc4', WPC: '#d6336c', WPE: '#495057', DZ: '#e67700', FZ: '#e67700' };

/** @param {L.Layer} layer @param {string} text @param {'left' | 'right'} [direction] */
function label(layer, text, direction = 'right') {
  layer.bindTooltip(text, { permanent: true, direction, offset: [direction === 'left' ? -8 : 8, 0], className: 'course-label' });
  return layer;
}

/**
 * @param {{ segments: any[], geofences: any[], waypoints: any[], zones: any[] }} course
 * @returns {L.FeatureGroup}
 */
export function courseLayer(course) {
  const group = L.featureGroup();
  for (const s of course.segments) {
    if (s.route) L.geoJSON(s.route, { style: { color: '#343a40', weight: 4, opacity: 0.8 } }).bindTooltip(s.name ?? 'route').addTo(group);
  }
  for (const z of course.zones) {
    const text = `${z.code} ${z.limit_kmh} km/h`;
    if (z.geometry) label(L.geoJSON(z.geometry, { style: { color: '#c92a2a', weight: 1, fillColor: '#fa5252', fillOpacity: 0.18 } }), text, 'left').addTo(group);
    for (const line of [z.start_line, z.end_line]) if (line) L.geoJSON(line, { style: { color: '#c92a2a', weight: 3, dashArray: '4 4' } }).bindTooltip(text).addTo(group);
  }
  for (const g of course.geofences) {
    if (!g.geometry) continue;
    const style = GEOFENCE_STYLE[g.kind] ?? { color: '#495057', weight: 3 };
    const layer =
      g.geometry.type === 'Point'
        ? L.circle([g.geometry.coordinates[1], g.geometry.coordinates[0]], { radius: g.radius_m ?? 30, ...style, fillOpacity: 0.15 })
        : L.geoJSON(g.geometry, { style });
    label(layer, g.code).addTo(group);
  }
  for (const w of course.waypoints) {
    if (!w.point) continue;
    const color = WAYPOINT_COLOR[w.type] ?? '#1971c2';
    const center = [w.point.coordinates[1], w.point.coordinates[0]];
    L.circle(center, { radius: w.radius_m ?? 50, color, weight: 1, fillOpacity: 0.12 }).addTo(group);
    label(L.circleMarker(center, { radius: 3, color, weight: 2, fillOpacity: 1 }), w.code).addTo(group);
  }
  return group;
}
