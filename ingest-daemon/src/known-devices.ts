/**
 * Which IMEIs may connect. `INGEST_ACCEPT=any` lets everyone in; `known` checks the Postgres
 * table `devices` (column `imei`, managed by Directus) through a cached set, reloaded every
 * `refreshMs` and, on a cache miss, at most once per `missRefreshMs` (so a device registered a
 * second ago gets in without a thundering herd of queries from unknown ones). When the table or
 * the database is unavailable the last known set is kept and the problem logged: unknown IMEIs
 * are refused, the daemon does not crash.
 */
import type pg from 'pg';
import type { Logger } from '../../common/src/log.ts';
import { errorMessage } from '../../common/src/errors.ts';
import { IngestErrorCode } from './errors.ts';
import { throttle } from './throttle.ts';

export interface DeviceDirectory {
  isKnown(imei: string): Promise<boolean>;
  close(): Promise<void>;
}

export const acceptAnyDevice: DeviceDirectory = {
  isKnown: async () => true,
  close: async () => {},
};

export interface KnownDevicesOptions {
  pool: pg.Pool;
  log: Logger;
  refreshMs: number;
  missRefreshMs: number;
  onSize?: (size: number) => void;
  /** clock for the miss throttle (ms); injectable for tests */
  now?: () => number;
}

export class KnownDevices implements DeviceDirectory {
  private known = new Set<string>();
  private lastLoadMs = -Infinity;
  private loading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed: Promise<void> | null = null;
  private available = false;
  private readonly now: () => number;
  private readonly options: KnownDevicesOptions;
  private readonly warnings = throttle(60_000);

  constructor(options: KnownDevicesOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Loads once (errors logged, not thrown), then reloads periodically. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.options.refreshMs);
    this.timer.unref();
  }

  get size(): number {
    return this.known.size;
  }

  /** true once a load succeeded and the last one did too */
  get healthy(): boolean {
    return this.available;
  }

  async isKnown(imei: string): Promise<boolean> {
    if (this.known.has(imei)) return true;
    if (this.closed || this.now() - this.lastLoadMs < this.options.missRefreshMs) return false;
    await this.reload();
    return this.known.has(imei);
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      this.lastLoadMs = this.now();
      try {
        const { rows } = await this.options.pool.query<{ imei: string }>('SELECT imei FROM devices WHERE imei IS NOT NULL');
        this.known = new Set(rows.map((r) => String(r.imei).trim()));
        if (!this.available) this.options.log.info({ devices: this.known.size }, 'devices table loaded');
        this.available = true;
        this.options.onSize?.(this.known.size);
      } catch (error) {
        const suppressed = this.warnings.take(this.now());
        if (suppressed >= 0) {
          this.options.log.warn({ code: IngestErrorCode.DEVICES_UNAVAILABLE, err: errorMessage(error), kept: this.known.size, suppressed }, 'devices table unavailable, keeping the last known set');
        }
        this.available = false;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await this.loading;
    })();
    return this.closed;
  }
}
