/**
 * Scenario `room`: the product as callers meet it, through LiveKit's own server, and how many
 * calls one worker carries.
 *
 * - Side by side: the same recordings under the same profile and seed, first spoken to the
 *   product session without a room (simulated microphone and speaker, as in `voice`), then by a
 *   caller on @livekit/rtc-node in a real room served by the worker as `npm start` runs it (a job
 *   process, RoomIO, Opus both ways through the server). Both are timed to the reply's first
 *   audible frame, so the difference is the transport's share.
 * - Load: N rooms at once, one caller each, every call a job process of the one worker; N = the
 *   given levels, then doubling, until a level breaks (e2e p95 over 3 s, a failed turn, or a job
 *   that never starts) or the ceiling is reached. Worker CPU and memory are read from /proc.
 *
 * The stand-ins, the callers and the server share the machine with the worker: their CPU is
 * reported beside it, since on a 2-core machine they take a share of what the worker could use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../src/telemetry/logger.ts';
import { defaultSpeechSettings } from '../../src/voice/speech-settings.ts';
import type { Backend } from '../backend.ts';
import { noServerReason } from '../harness/livekit-server.ts';
import { countProcesses, watchProcesses } from '../harness/process-usage.ts';
import { type Stage, startStage } from '../harness/room-stage.ts';
import { roomsUnavailable } from '../harness/room-network.ts';
import { type SpeechFixture, scriptOf, speechManifest } from '../harness/speech.ts';
import type { Progress } from '../progress.ts';
import { runRoomCall } from '../room-call.ts';
import { roomShare, roomlessLegs } from '../room-share.ts';
import { classifier, criteria, jobKind, runLevel } from './room-level.ts';
import {
  type RoomFaultOptions,
  networkTurns,
  plannedNetworkTurns,
  roomFaultsUnavailable,
  runRoomFaults,
} from './room-faults.ts';
import type {
  RoomLevelResult,
  RoomPathResult,
  RoomScenarioResult,
  RoomShareResult,
  RoomVariant,
  RoomVariantResult,
} from '../room-results.ts';
import { jobStartIn } from '../room-startup.ts';
import { measureImports } from '../harness/import-cost.ts';
import { buildWorkerBundle } from '../../src/worker/bundle.ts';
import { summarize } from '../stats.ts';
import { pickFixtures, runVoiceCall } from '../voice-call.ts';
import type { SpeechResources } from '../voice-settings.ts';

export interface RoomScenarioOptions {
  /** Spoken turns of each side-by-side call. */
  turns: number;
  /** Load levels run first; after the last, the level doubles until one breaks or passes `maxCalls`. */
  levels: readonly number[];
  maxCalls: number;
  /** Spoken turns per call at each load level. */
  loadTurns: number;
  /** The worker's LIVEKIT_NUM_IDLE_PROCESSES; unset: the framework's default. */
  idleProcesses?: number;
  /** LiveKit nodes (multi-node mode), one worker registered with each; default 1. */
  nodes?: number;
  /**
   * Worker settings to compare, each a run of the load levels with its own worker (the first one
   * also runs the side by side); default one, the defaults.
   */
  variants?: readonly RoomVariant[];
  resources: SpeechResources;
  logger: Logger;
  /** Calls on an impaired network after the load levels (`--loss`, `--blackout`), with the first setting's worker. */
  network?: RoomFaultOptions;
}

export const defaultRoomScenarioOptions = {
  turns: 10,
  levels: [1, 5, 10, 20],
  maxCalls: 80,
  loadTurns: 2,
} as const;

/** Job processes the worker keeps warm under `npm start` unless told (the agents framework's default). */
const defaultWarmJobs = Math.min(availableParallelism(), 4);

/** Why the scenario cannot run here, or null. */
export function roomScenarioUnavailable(): string | null {
  return roomsUnavailable() ?? noServerReason();
}

/** The side-by-side path without a room: the product session on a simulated microphone and speaker. */
async function roomless(backend: Backend, fixtures: SpeechFixture[], o: RoomScenarioOptions, progress: Progress) {
  const speech = defaultSpeechSettings;
  const eotExecutor = o.resources.eotExecutor(speech);
  const journalDir = mkdtempSync(join(tmpdir(), 'bench-room-less-'));
  try {
    const r = await runVoiceCall({
      design: 'hybrid',
      backend,
      vad: await o.resources.vad(speech),
      speech,
      ...(eotExecutor ? { eotExecutor } : {}),
      fixtures,
      seed: backend.seed,
      identity: `bench-room-less-${Date.now()}`,
      journalDir,
      logger: o.logger,
      onTurn: () => progress.tick(),
    });
    const path = pathResult(
      'room-less',
      'the product session (createVoiceSession, default speech settings) on a simulated microphone and speaker, in this process',
      fixtures,
      r.turns.map((t) => ({
        e2eMs: t.error ? null : (t.waterfall.firstAudibleMs ?? null),
        frameworkE2eMs: t.frameworkE2eMs,
      })),
    );
    return { path, legs: roomlessLegs(r.turns), error: r.error };
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
  }
}

/** One side of the side-by-side; a turn missing from `turns` (the call failed first) counts as an error. */
function pathResult(
  path: RoomPathResult['path'],
  how: string,
  fixtures: SpeechFixture[],
  turns: { e2eMs: number | null; frameworkE2eMs: number | null }[],
): RoomPathResult {
  const e2e = fixtures.map((_, i) => turns[i]?.e2eMs ?? null);
  return {
    path,
    how,
    turns: fixtures.length,
    errors: e2e.filter((v) => v === null).length,
    e2e: summarize(e2e),
    frameworkE2e: summarize(turns.map((t) => t.frameworkE2eMs)),
    e2eSamplesMs: e2e,
  };
}

/**
 * Waits until the worker is as a long-running one is between calls: the last calls' job processes
 * gone and `warm` others started and idle (a process still starting uses CPU).
 */
async function untilWarm(stage: Stage, warm: number, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const usage = watchProcesses(classifier(stage));
    await sleep(1000);
    const idleCpu = (usage.stop().byKind[jobKind]?.cpuSeconds ?? 0) < 0.05;
    if (idleCpu && (countProcesses(classifier(stage))[jobKind] ?? 0) === warm) return;
  }
}

/** The load levels: the given ones, then doubling from the last, up to `max`. */
export function* loadLevels(given: readonly number[], max: number): Generator<number> {
  let last = 0;
  for (const n of given) {
    if (n > max) return;
    last = n;
    yield n;
  }
  for (let n = Math.max(1, last) * 2; n <= max; n *= 2) yield n;
}

/** The worker's settings for one variant: no limit of calls (every call is dispatched), then the variant's. */
function variantEnv(o: RoomScenarioOptions, v: RoomVariant): Record<string, string> {
  return {
    // No limit of calls: every call is dispatched, so a level shows what the machine carries.
    WORKER_MAX_CALLS: '1000',
    ...(o.idleProcesses !== undefined ? { LIVEKIT_NUM_IDLE_PROCESSES: String(o.idleProcesses) } : {}),
    ...v.env,
  };
}

export const defaultVariant: RoomVariant = { name: 'default', env: {} };

export async function runRoomScenario(
  backend: Backend,
  o: RoomScenarioOptions,
  progress: Progress,
): Promise<RoomScenarioResult> {
  const profile = backend.profile.values;
  if (backend.mode !== 'sim' || profile === null) throw new Error('the room scenario runs against the stand-ins only');
  const noFaults = o.network ? roomFaultsUnavailable() : null;
  if (noFaults) throw new Error(`--loss/--blackout: ${noFaults}`);
  const fixtures = pickFixtures(speechManifest(), o.turns);
  const loadFixtures = pickFixtures(speechManifest(), o.loadTurns);
  const variants = o.variants?.length ? o.variants : [defaultVariant];
  const nodes = o.nodes ?? 1;
  const notes: string[] = [];
  const networkFixtures = pickFixtures(speechManifest(), networkTurns);
  progress.plan(
    fixtures.length * (1 + variants.length) +
      variants.length * [...loadLevels(o.levels, o.maxCalls)].reduce((s, n) => s + n * loadFixtures.length, 0) +
      (o.network ? plannedNetworkTurns(o.network) : 0),
  );

  progress.phase('room: import cost in fresh processes');
  // The job bundle of these sources, as the worker builds it, so that its import is measured too.
  await buildWorkerBundle(o.logger);
  const cacheDir = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
  const imports = {
    withoutCache: measureImports({}),
    // The first run fills the cache; the median is of runs that found it filled.
    withCache: measureImports({ NODE_COMPILE_CACHE: cacheDir }, 4),
  };
  rmSync(cacheDir, { recursive: true, force: true });

  progress.phase(`room: ${fixtures.length} spoken turns without a room`);
  const without = await roomless(backend, fixtures, o, progress);
  if (without.error) notes.push(`room-less call: ${without.error}`);

  let side: { withRoom: RoomPathResult; turns: RoomScenarioResult['roomTurns'] } | undefined;
  const shares: RoomShareResult[] = [];
  const levels: RoomLevelResult[] = [];
  const variantResults: RoomVariantResult[] = [];
  let network: Awaited<ReturnType<typeof runRoomFaults>> | undefined;
  for (const v of variants) {
    const env = variantEnv(o, v);
    const warmGiven = env.LIVEKIT_NUM_IDLE_PROCESSES;
    const warm = warmGiven !== undefined ? Number(warmGiven) : defaultWarmJobs;
    progress.phase(
      nodes > 1
        ? `room [${v.name}]: starting ${nodes} LiveKit nodes (one redis-server) and a worker on each (npm start)`
        : `room [${v.name}]: starting LiveKit’s server and the worker (npm start)`,
    );
    const stage = await startStage({
      nodes,
      workers: nodes,
      script: 'start',
      profile,
      seed: backend.seed,
      logLevel: 'info',
      workerEnv: env,
    });
    try {
      await untilWarm(stage, warm);
      // Every setting's worker gets the side by side's room call, on fresh stand-ins with the
      // same seed, so the settings' shares of the reply delay compare turn for turn.
      progress.phase(`room [${v.name}]: ${fixtures.length} spoken turns through a real room`);
      stage.deepgram.setTranscripts(fixtures.map(scriptOf));
      const call = await runRoomCall(stage, {
        room: `bench-side-by-side-${shares.length}`,
        identity: `bench-room-${Date.now()}`,
        fixtures,
        joinTimeoutMs: criteria.joinTimeoutMs,
        onTurn: () => progress.tick(),
      });
      if (call.error) notes.push(`room call [${v.name}]: ${call.error}`);
      const withRoom = pathResult(
        'room',
        'a caller on @livekit/rtc-node in a room on LiveKit’s server, the worker as `npm start` runs it (a job process, RoomIO)',
        fixtures,
        call.turns,
      );
      shares.push(roomShare(v.name, without.path, without.legs.transport, withRoom, call.turns, call.receive));
      side ??= { withRoom, turns: call.turns };
      await untilWarm(stage, warm);
      for (const n of loadLevels(o.levels, o.maxCalls)) {
        progress.phase(`room [${v.name}]: ${n} room${n === 1 ? '' : 's'} at once`);
        const level = await runLevel(stage, v.name, n, loadFixtures, progress);
        levels.push(level);
        await untilWarm(stage, warm);
        if (!level.holds) break;
      }
      if (o.network && !network) network = await runRoomFaults(stage, o.network, networkFixtures, progress);
      variantResults.push({ ...v, env, warm, jobStart: jobStartIn(stage.worker.log) });
    } finally {
      await stage.close();
    }
  }
  const first = levels.filter((l) => l.variant === variants[0]?.name);
  const held = first.filter((l) => l.holds).at(-1);
  const broke = first.find((l) => !l.holds);
  notes.push(
    `side by side: ${fixtures.length} turn${fixtures.length === 1 ? '' : 's'} each (${[...new Set(fixtures.map((f) => f.file))].join(', ')}), the same profile and seed; the room call's greeting takes the stand-ins' first draws, so its turn i meets draw i+1`,
    `load: ${loadFixtures.length} spoken turn${loadFixtures.length === 1 ? '' : 's'} per call after its greeting, all callers joining at once; a job never starts when no greeting is heard within ${criteria.joinTimeoutMs / 1000} s; the worker's limit of calls is off (WORKER_MAX_CALLS=1000), so every call is dispatched and the level shows what the machine carries; job processes kept warm: LIVEKIT_NUM_IDLE_PROCESSES, unset: the framework’s default min(cores, 4) = ${defaultWarmJobs}; the framework starts further ones one at a time`,
  );
  const withRoom = side?.withRoom;
  return {
    fixtures: fixtures.map((f) => f.file),
    sideBySide: withRoom ? [without.path, withRoom] : [without.path],
    transport: {
      medianMs: without.path.e2e && withRoom?.e2e ? withRoom.e2e.median - without.path.e2e.median : null,
      p95Ms: without.path.e2e && withRoom?.e2e ? withRoom.e2e.p95 - without.path.e2e.p95 : null,
    },
    roomTurns: side?.turns ?? [],
    share: { roomless: without.legs, byVariant: shares },
    levels,
    heldUpTo: held?.calls ?? null,
    breaksAt: broke?.calls ?? null,
    criteria,
    ...(network ? { network } : {}),
    notes,
    variants: variantResults,
    imports,
  };
}
