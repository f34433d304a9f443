/**
 * One setup of real rooms, for the room test tier and the bench's room scenario: the project's
 * stand-ins for OpenAI, Deepgram, ElevenLabs and Letta on loopback, LiveKit's server, and the
 * worker started with `npm run dev` or `npm start` and pointed at them. Callers join with tokens
 * from the project's own token code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { startRedis } from '../redis-server.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintJoinToken } from '../../src/cli/token.ts';
import {
  type DeepgramStandIn,
  startDeepgramStandIn,
  type ElevenLabsStandIn,
  startElevenLabsStandIn,
  type LettaStandIn,
  startLettaStandIn,
  type OpenAIStandIn,
  type Responder,
  startOpenAIStandIn,
  type LatencyProfile,
  profiles,
} from '../../sim/index.ts';
import { type LiveKitServer, startLiveKitServer } from './livekit-server.ts';
import { Caller } from './room-caller.ts';
import { readWav, speechFixture } from './speech.ts';
import { type WorkerProcess, startWorker } from './worker-process.ts';

export interface StageOptions {
  /** `dev` (no drain, no load limit) or `start` (production: drains on SIGTERM). Default dev. */
  script?: 'dev' | 'start';
  /** Explicit dispatch under this name; unset: automatic dispatch. */
  agentName?: string;
  respond?: Responder;
  /** Starts the LiveKit server; default: the tier's own config (startLiveKitServer). */
  server?: (dir: string) => Promise<LiveKitServer>;
  /**
   * The stand-ins' latency profile and seed. Default `instant`: what the tests check is the room,
   * not the services; the bench passes its own profile.
   */
  profile?: LatencyProfile;
  seed?: number;
  /** The worker's log level (default debug, which the tests read; the bench keeps it quieter). */
  logLevel?: string;
  /** More of the worker's settings (LIVEKIT_NUM_IDLE_PROCESSES, say). */
  workerEnv?: Record<string, string>;
  /**
   * How many workers (default 1), each as if on a machine of its own: its own journal directory.
   * Several share a journal only through `journalUrl`.
   */
  workers?: number;
  /** MEMORY_JOURNAL_URL of every worker (a Redis journal); unset: file journals. */
  journalUrl?: string;
  /**
   * LiveKit nodes (default 1). Several run LiveKit's multi-node mode: each its own server process
   * and ports, all sharing a redis-server of the stage's own; worker i registers with node
   * i mod nodes, and caller n joins through node n mod nodes (where its room is placed).
   */
  nodes?: number;
}

export interface Stage {
  /** The first node. */
  server: LiveKitServer;
  servers: LiveKitServer[];
  /** Which node hosts the room (index into `servers`), from the servers' logs; undefined before it exists. */
  nodeOf(room: string): number | undefined;
  /** The first worker. */
  worker: WorkerProcess;
  /** Every worker, in the order they were started (and registered). */
  workers: WorkerProcess[];
  openai: OpenAIStandIn;
  deepgram: DeepgramStandIn;
  elevenlabs: ElevenLabsStandIn;
  letta: LettaStandIn;
  /** The first worker's MEMORY_JOURNAL_DIR. */
  journalDir: string;
  /** Joins a room as `identity` (with the agent named in the token under explicit dispatch). */
  call(room: string, identity: string): Promise<Caller>;
  close(): Promise<void>;
}

/** The Letta agent created for a caller on their first call. */
export function lettaAgentOf(s: Stage, identity: string): string | undefined {
  return s.letta.store.agents().find((a) => a.tags?.includes(`lk-caller:${identity}`))?.id;
}

/** A committed recording as 16 kHz samples, and what the Deepgram stand-in should transcribe it as. */
export function recording(file: string): { samples: Int16Array; transcript: string } {
  const f = speechFixture(file);
  return { samples: readWav(f.path).samples, transcript: f.transcript };
}

/** One server, or a cluster of `nodes` sharing a redis-server of their own and a key pair. */
async function startServers(
  dir: string,
  opts: StageOptions,
  closers: (() => Promise<void>)[],
): Promise<LiveKitServer[]> {
  const nodes = opts.nodes ?? 1;
  if (nodes === 1) {
    const server = await (opts.server ?? startLiveKitServer)(dir);
    closers.push(() => server.stop());
    return [server];
  }
  const redis = await startRedis();
  closers.push(() => redis.stop());
  const apiSecret = randomBytes(24).toString('hex');
  const servers: LiveKitServer[] = [];
  const regions = Array.from({ length: nodes }, (_, i) => `node${i}`);
  for (const name of regions) {
    const server = await startLiveKitServer(dir, { redisAddress: `127.0.0.1:${redis.port}`, apiSecret, name, regions });
    closers.push(() => server.stop());
    servers.push(server);
  }
  return servers;
}

/** The node a room was placed on: the one whose id the cluster's "selected node for room" line names. */
function roomNode(servers: LiveKitServer[], room: string): number | undefined {
  const ids = servers.map((s) => {
    const started = s.log.find((l) => l.includes('starting LiveKit server'));
    return started && /"nodeID":"([^"]+)"/.exec(started)?.[1];
  });
  for (const s of servers)
    for (const line of s.log) {
      if (!line.includes('selected node for room') || !line.includes(`"room":"${room}"`)) continue;
      const id = /"selectedNodeID":"([^"]+)"/.exec(line)?.[1];
      const at = ids.indexOf(id);
      if (at >= 0) return at;
    }
  return undefined;
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export async function startStage(opts: StageOptions = {}): Promise<Stage> {
  const dir = await mkdtemp(join(tmpdir(), 'rooms-'));
  const closers: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const profile = opts.profile ?? profiles.instant;
    const seed = opts.seed ?? 1;
    const openai = await startOpenAIStandIn({ profile, seed, ...(opts.respond ? { respond: opts.respond } : {}) });
    closers.push(() => openai.close());
    const deepgram = await startDeepgramStandIn({ profile, seed });
    closers.push(() => deepgram.close());
    const elevenlabs = await startElevenLabsStandIn({ profile, seed });
    closers.push(() => elevenlabs.close());
    const letta = await startLettaStandIn({ modelBaseUrl: openai.url, profile, seed });
    closers.push(() => letta.close());
    const servers = await startServers(dir, opts, closers);
    const server = servers[0]!;
    const env = (journal: string): Record<string, string> => ({
      LIVEKIT_URL: server.url,
      LIVEKIT_API_KEY: server.apiKey,
      LIVEKIT_API_SECRET: server.apiSecret,
      ...(opts.agentName ? { LIVEKIT_AGENT_NAME: opts.agentName } : {}),
      OPENAI_API_KEY: 'sim-openai',
      OPENAI_BASE_URL: openai.url,
      DEEPGRAM_API_KEY: 'sim-deepgram',
      DEEPGRAM_BASE_URL: deepgram.url,
      ELEVEN_API_KEY: 'sim-eleven',
      ELEVENLABS_BASE_URL: elevenlabs.url,
      LETTA_BASE_URL: letta.url,
      MEMORY_JOURNAL_DIR: journal,
      ...(opts.journalUrl ? { MEMORY_JOURNAL_URL: opts.journalUrl } : {}),
      LOG_LEVEL: opts.logLevel ?? 'debug',
      // A free port of its own: two workers on one machine would fight over the default one.
      METRICS_PORT: '0',
      // The tier's stages run more calls in a row than the default limit, and an ended call holds its
      // place until LiveKit closes its empty room; the limit itself is tested in busy-machine.test.ts.
      WORKER_MAX_CALLS: '1000',
      ...opts.workerEnv,
    });
    const journalDir = join(dir, 'journal');
    const workers: WorkerProcess[] = [];
    const count = opts.workers ?? 1;
    for (let i = 0; i < count; i++) {
      // Under npm start each binds a health port (8081 by default): one each on one machine.
      const health = count > 1 ? { WORKER_HEALTH_PORT: String(await freeTcpPort()) } : {};
      const worker = startWorker(opts.script ?? 'dev', {
        ...env(i === 0 ? journalDir : `${journalDir}-${i}`),
        ...health,
        LIVEKIT_URL: servers[i % servers.length]!.url,
      });
      workers.push(worker);
      closers.push(() => worker.stop());
      // The server dispatches only to workers registered when the room is created, and never retries.
      await worker.registered();
    }
    const worker = workers[0]!;

    const callers: Caller[] = [];
    closers.push(async () => {
      for (const c of callers) await c.leave().catch(() => undefined);
    });
    return {
      server,
      worker,
      workers,
      openai,
      deepgram,
      elevenlabs,
      letta,
      journalDir,
      servers,
      nodeOf: (room) => roomNode(servers, room),
      call: async (room, identity) => {
        const token = await mintJoinToken({
          apiKey: server.apiKey,
          apiSecret: server.apiSecret,
          room,
          identity,
          ...(opts.agentName ? { agentName: opts.agentName } : {}),
        });
        const caller = new Caller(identity);
        callers.push(caller);
        await caller.join(servers[(callers.length - 1) % servers.length]!.url, token);
        return caller;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
