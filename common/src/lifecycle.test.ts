import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { ECHO_WINDOW_MS, forcesExit } from './lifecycle.ts';

test.each([
  ['SIGTERM right after SIGINT (Ctrl-C, then trm up forwarding)', 'SIGINT', 'SIGTERM', 5, false],
  ['SIGINT right after SIGTERM', 'SIGTERM', 'SIGINT', 0, false],
  ['the same signal again (Ctrl-C twice)', 'SIGINT', 'SIGINT', 100, true],
  ['another signal after the echo window', 'SIGINT', 'SIGTERM', ECHO_WINDOW_MS, true],
])('%s → forces exit: %s', (_name, first, second, afterMs, forced) => {
  expect(forcesExit({ signal: first, atMs: 1000 }, second, 1000 + afterMs)).toBe(forced);
});

/** Runs the child service, sends `signals` (ms after it is ready), returns its exit code and log messages. */
function run(signals: [NodeJS.Signals, number][]): Promise<{ code: number | null; messages: string[] }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./testing/lifecycle-child.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CLOSE_MS: '400' } });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const ready = !out.includes('ready\n');
      out += chunk.toString();
      if (ready && out.includes('ready\n')) for (const [signal, afterMs] of signals) setTimeout(() => child.kill(signal), afterMs);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const messages = out.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);
      resolve({ code, messages });
    });
  });
}

test('SIGINT and SIGTERM together (Ctrl-C under trm up): the service drains and exits 0', async () => {
  const { code, messages } = await run([['SIGINT', 0], ['SIGTERM', 1]]);
  expect(messages).toEqual(['stopping', 'second stop signal right after the first; still draining', 'stopped']);
  expect(code).toBe(0);
});

test('Ctrl-C twice: the second forces the exit before the drain ends', async () => {
  const { code, messages } = await run([['SIGINT', 0], ['SIGINT', 50]]);
  expect(messages).toEqual(['stopping', 'second signal, exiting now']);
  expect(code).toBe(1);
});
