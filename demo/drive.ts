/**
 * Drives the demo entries in real time: one simulated Teltonika device per entry over real TCP
 * to the ingest daemon, each fix produced when its time comes (1 Hz), uploaded in small
 * packets and resent until ACKed, as real trackers do.
 */
import { SimulatedDevice } from '../simulator/src/index.ts';
import { DEMO_ENTRIES, entryTrack, type DemoFix } from './scenario.ts';
import { DEMO_START_INTERVAL_S } from './seed.ts';

export interface DemoDrive {
  devices: SimulatedDevice[];
  /** resolves when every entry's track has been produced and ACKed */
  done: Promise<void>;
  stop(): void;
}

export function driveDemo(options: { host: string; port: number; startAtMs: number; now?: () => number; onProgress?: (line: string) => void }): DemoDrive {
  const now = options.now ?? Date.now;
  const tracks = DEMO_ENTRIES.map((e, i) => ({ entry: e, fixes: entryTrack(e, options.startAtMs + i * DEMO_START_INTERVAL_S * 1000), next: 0 }));
  const devices = tracks.map(({ entry }) => new SimulatedDevice({ host: options.host, port: options.port, imei: entry.imei, codec: '8E', recordsPerPacket: 5, ackTimeoutMs: 5_000 }));
  devices.forEach((d) => d.connect());
  let stopped = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const emit = (device: SimulatedDevice, f: DemoFix) =>
    device.record({ timestampMs: f.tsMs, lat: f.lat, lon: f.lon, speedKmh: Math.round(f.speedKmh), headingDeg: f.headingDeg, altitudeM: 120, satellites: 11, priority: 0, io: { 239: f.speedKmh > 0 ? 1 : 0, 240: f.speedKmh > 0 ? 1 : 0, 66: 13_800 } });
  let lastReport = 0;
  const timer = setInterval(() => {
    const t = now();
    let remaining = 0;
    tracks.forEach((track, i) => {
      while (track.next < track.fixes.length && track.fixes[track.next].tsMs <= t) emit(devices[i], track.fixes[track.next++]);
      remaining += track.fixes.length - track.next;
    });
    if (options.onProgress && t - lastReport >= 30_000) {
      lastReport = t;
      const sent = tracks.reduce((n, tr) => n + tr.next, 0);
      options.onProgress(`demo: ${sent} fixes driven, ${remaining} to go, ${devices.filter((d) => d.state === 'online').length}/${devices.length} devices online`);
    }
    if (remaining === 0) {
      clearInterval(timer);
      Promise.all(devices.map((d) => d.idle())).then(() => resolveDone());
    }
  }, 250);
  return {
    devices,
    done,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      devices.forEach((d) => d.stop());
      resolveDone();
    },
  };
}
