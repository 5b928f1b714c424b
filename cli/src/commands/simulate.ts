/** `trm simulate`: N Teltonika devices over real TCP (simulator/). Thin: parse options, run the fleet. */
import { readFile } from 'node:fs/promises';
import type { Command } from '../command.ts';

function num(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${String(value)}"`);
  return n;
}

export const command: Command = {
  name: 'simulate',
  summary: 'replay or synthesise Teltonika devices over real TCP',
  usage: 'simulate [--devices N] [--rate R] [--duration S | --records N] [--track file.geojson|file.gpx] [options]',
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    devices: { type: 'string' },
    rate: { type: 'string' },
    codec: { type: 'string' },
    'records-per-packet': { type: 'string' },
    duration: { type: 'string' },
    records: { type: 'string' },
    track: { type: 'string' },
    speed: { type: 'string' },
    'imei-base': { type: 'string' },
    respond: { type: 'string' },
    quiet: { type: 'boolean' },
  },
  help: `Each device logs in with its IMEI, produces records along the track at --rate per second,
uploads them in packets, waits for the ACK and resends what was not acknowledged, as FMB devices do.

options:
  --host H                 ingest host (127.0.0.1)
  --port P                 ingest port (INGEST_PORT or 5027)
  --devices N              number of devices (1)
  --rate R                 records per second per device (1)
  --codec 8|8E             AVL codec (8E)
  --records-per-packet K   records per AVL packet (10)
  --duration S             produce for S seconds (default 10 unless --records)
  --records N              produce N records per device, then stop
  --track FILE             GeoJSON LineString or GPX track to replay (default: a 5 km loop at Tirana)
  --speed KMH              speed along the track (90)
  --imei-base N            first IMEI; devices count up from it (352000000000000)
  --respond TEXT           answer Codec 12 commands with TEXT (default: "OK <command>")
  --quiet                  no progress lines

Exit code 0 when every produced record was ACKed, 1 otherwise.`,
  async run(args, env) {
    const { startFleet, parseTrack } = await import('../../../simulator/src/index.ts');
    const v = args.values;
    const codec = (v.codec as string | undefined) ?? '8E';
    if (codec !== '8' && codec !== '8E') throw new Error(`--codec must be 8 or 8E, got "${codec}"`);
    const records = v.records === undefined ? undefined : num(v.records, 'records', 0);
    const durationS = v.duration === undefined ? (records === undefined ? 10 : undefined) : num(v.duration, 'duration', 10);
    const track = v.track ? parseTrack(await readFile(String(v.track), 'utf8')) : undefined;
    const respondText = v.respond as string | undefined;
    const quiet = Boolean(v.quiet);
    const fleet = startFleet({
      host: (v.host as string | undefined) ?? '127.0.0.1',
      port: num(v.port, 'port', Number(env.INGEST_PORT ?? 5027)),
      devices: num(v.devices, 'devices', 1),
      ratePerDevice: num(v.rate, 'rate', 1),
      codec,
      recordsPerPacket: num(v['records-per-packet'], 'records-per-packet', 10),
      durationMs: durationS === undefined ? undefined : durationS * 1000,
      recordsPerDevice: records,
      track,
      speedKmh: num(v.speed, 'speed', 90),
      imeiBase: num(v['imei-base'], 'imei-base', 352_000_000_000_000),
      respond: (text) => respondText ?? `OK ${text}`,
      onProgress: quiet
        ? undefined
        : (p) => process.stderr.write(`[simulate] ${(p.elapsedMs / 1000).toFixed(0)}s online ${p.online} rejected ${p.rejected} generated ${p.generated} acked ${p.acked} resent ${p.resent} (${p.ackedPerSecond} rec/s)\n`),
    });
    const stop = () => void fleet.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const s = await fleet.done;
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return s.unacked === 0 && s.rejected === 0 ? 0 : 1;
  },
};
