/** The Teltonika device simulator: programmatic API used by `trm simulate`, tests and benchmarks. */
export { encodeAvlPacket, encodeRecord, fixCrc, type RecordInput } from './avl-encoder.ts';
export { SimulatedDevice, type DeviceOptions, type DeviceState, type DeviceStats } from './device.ts';
export { imeiFor, startFleet, type Fleet, type FleetOptions, type FleetProgress, type FleetSummary } from './fleet.ts';
export { parseGeoJson, parseGpx, parseTrack, RoutePlayer, syntheticLoop, type Point } from './route.ts';
