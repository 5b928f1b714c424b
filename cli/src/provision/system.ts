/**
 * Small system adapters for provisioning: TCP probes, running a command with its output shown,
 * and whether this machine lets us install Debian packages (root on Debian).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

export type Say = (line: string) => void;

export function probeTcp(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await delay(intervalMs);
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
}

export function canInstallDebianPackages(): boolean {
  return os.userInfo().uid === 0 && existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get');
}

export function commandExists(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(`${dir}/${name}`));
}

/** Runs a command; its output goes to our stderr prefixed, so long installs show progress. */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; say?: Say; quiet?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      out += text;
      if (out.length > 1_000_000) out = out.slice(-500_000);
      if (!options.quiet) for (const line of text.split('\n')) if (line.trim()) process.stderr.write(`    ${line}\n`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${out.slice(-2000)}`));
    });
  });
}

let aptUpdated = false;
export async function aptInstall(packages: string[], say: Say): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    say('apt-get update');
    await run('apt-get', ['update', '-q'], { env, quiet: true });
    aptUpdated = true;
  }
  say(`apt-get install ${packages.join(' ')}`);
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env, quiet: true });
}
