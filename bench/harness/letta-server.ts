/**
 * Letta's own server (0.16.8, self-hosted, with PostgreSQL + pgvector) for one test tier or one
 * bench run: a data folder and loopback ports of its own, started and stopped through
 * scripts/letta-server.sh, which owns both processes by their pids. Its model calls go to the
 * OpenAI endpoint given (the stand-in in tests and the bench).
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../project-root.ts';

const run = promisify(execFile);
const script = join(projectRoot, 'scripts/letta-server.sh');

export interface LettaServer {
  /** What LETTA_BASE_URL is set to. */
  url: string;
  /** Stops server and database; the data folder stays, so `start` brings the same state back. */
  stop(): Promise<void>;
  /** Starts them again on the same ports and data (after `stop`). */
  start(): Promise<void>;
  /** Letta's own log so far (for a failure message). */
  log(): string;
  /** Stops both and removes the data folder. */
  close(): Promise<void>;
}

export interface LettaServerOptions {
  /** Letta's agent steps and embeddings go here (an OpenAI-compatible `/v1` URL). */
  openaiBaseUrl: string;
  openaiApiKey?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a server with a fresh database. The first call on a machine installs it into the cache
 * (a few minutes of pip); later calls reuse it and take about half a minute on two cores.
 */
export async function startLettaServer(o: LettaServerOptions): Promise<LettaServer> {
  const data = mkdtempSync(join(tmpdir(), 'letta-server-'));
  // PostgreSQL runs as an unprivileged user when the tests run as root: it must reach its data.
  chmodSync(data, 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    LETTA_SERVER_DATA: data,
    LETTA_SERVER_PORT: String(await freePort()),
    LETTA_PG_PORT: String(await freePort()),
    OPENAI_BASE_URL: o.openaiBaseUrl,
    OPENAI_API_KEY: o.openaiApiKey ?? 'sim',
    ...(process.env.LETTA_SERVER_CACHE ? { LETTA_SERVER_CACHE: process.env.LETTA_SERVER_CACHE } : {}),
  };
  const call = async (verb: 'start' | 'stop'): Promise<string> => {
    try {
      const { stdout } = await run('bash', [script, verb], { env, maxBuffer: 16 << 20, timeout: 15 * 60_000 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `scripts/letta-server.sh ${verb} failed: ${e.stderr?.trim().split('\n').slice(-15).join('\n') ?? e.message}`,
        { cause: err },
      );
    }
  };
  let url: string;
  try {
    url = (await call('start')).trim().split('\n').at(-1) ?? '';
  } catch (err) {
    // The script stops what it started when a start fails; the empty data folder is ours to remove.
    rmSync(data, { recursive: true, force: true });
    throw err;
  }
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url))
    throw new Error(`scripts/letta-server.sh start printed no URL (got "${url}")`);
  return {
    url,
    stop: async () => void (await call('stop')),
    start: async () => void (await call('start')),
    log: () => {
      try {
        return readFileSync(join(data, 'log', 'letta.log'), 'utf8');
      } catch {
        return '';
      }
    },
    close: async () => {
      await call('stop');
      rmSync(data, { recursive: true, force: true });
    },
  };
}
