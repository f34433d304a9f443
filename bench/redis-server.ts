/**
 * A real Redis for the tests and the bench: Debian's `redis-server`, started on 127.0.0.1 at a free
 * port in a directory of its own, with the durability the Redis journal asks for (AOF,
 * `appendfsync always`). Not a stand-in: Redis is open source and runs here for real.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const noRedisReason = 'no redis-server on PATH (on Debian: apt-get install redis-server)';

/** The redis-server binary on PATH, if any. */
export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

export interface LocalRedis {
  url: string;
  port: number;
  /** SIGKILL (a crash: only what AOF holds survives), then the same server again on the same port. */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function launch(bin: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    bin,
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
      ...['--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'notice'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)));
    child.once('error', reject);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a Redis of its own; `stop` ends it and removes its directory. */
export async function startRedis(): Promise<LocalRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error(noRedisReason);
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const port = await freePort();
  let child = await launch(bin, port, dir);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async crashAndRestart() {
      child.kill('SIGKILL');
      await exited(child);
      child = await launch(bin, port, dir);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
