/**
 * One setup of real rooms, for the room test tier and the bench's room scenario: the project's
 * stand-ins for OpenAI, Deepgram, ElevenLabs and Letta on loopback, LiveKit's server, and the
 * worker started with `npm run dev` or `npm start` and pointed at them. Callers join with tokens
 * from the project's own token code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
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
}

export interface Stage {
  server: LiveKitServer;
  worker: WorkerProcess;
  openai: OpenAIStandIn;
  deepgram: DeepgramStandIn;
  elevenlabs: ElevenLabsStandIn;
  letta: LettaStandIn;
  /** The worker's MEMORY_JOURNAL_DIR. */
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
    const server = await (opts.server ?? startLiveKitServer)(dir);
    const journalDir = join(dir, 'journal');
    closers.push(() => server.stop());
    const worker = startWorker(opts.script ?? 'dev', {
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
      MEMORY_JOURNAL_DIR: journalDir,
      LOG_LEVEL: opts.logLevel ?? 'debug',
      // A free port of its own: two workers on one machine would fight over the default one.
      METRICS_PORT: '0',
      ...opts.workerEnv,
    });
    closers.push(() => worker.stop());
    // The server dispatches only to workers registered when the room is created, and never retries.
    await worker.registered();

    const callers: Caller[] = [];
    closers.push(async () => {
      for (const c of callers) await c.leave().catch(() => undefined);
    });
    return {
      server,
      worker,
      openai,
      deepgram,
      elevenlabs,
      letta,
      journalDir,
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
        await caller.join(server.url, token);
        return caller;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
