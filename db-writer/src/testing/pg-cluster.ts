/**
 * A throwaway PostgreSQL cluster for fault tests that stop and restart the server (the shared
 * server on 5432 serves everybody else's tests and must never be restarted). initdb refuses to
 * run as root, so under root the cluster runs as the `postgres` OS user.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../common/src/net.ts';

const run = promisify(execFile);

export function pgBinDir(): string {
  for (const v of ['17', '16', '15']) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  return ''; // initdb on PATH
}

export interface ThrowawayCluster {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  start(): Promise<void>;
  /** `immediate` is a crash (WAL recovery on the next start); `fast` a clean shutdown */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  destroy(): Promise<void>;
}

export async function createThrowawayCluster(label = 'pg'): Promise<ThrowawayCluster> {
  const bin = pgBinDir();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const root = mkdtempSync(`/tmp/trm-${label}-`);
  const data = join(root, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) chownSync(root, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()));
  const exec = (file: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args));
  await exec(tool('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  let running = false;
  return {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await exec(tool('pg_ctl'), ['-D', data, '-o', options, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop(mode = 'fast') {
      await exec(tool('pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await exec(tool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
}
