/**
 * Geometry types shared by the geodesy helpers. Coordinates follow GeoJSON order: `[lon, lat]`
 * in degrees (WGS 84). Planar points are metres in a local tangent plane (see projection.ts).
 */

/** A GeoJSON position, `[lon, lat]` in degrees. Any altitude member is ignored. */
export type LonLat = readonly [number, number] | readonly number[];

/** A point in a local planar frame, metres east (`x`) and north (`y`) of the frame's origin. */
export interface Xy {
  readonly x: number;
  readonly y: number;
}
