/** The room scenario's part of the results file (see results.ts for the rest). */
import type { NetworkCallResult } from './network-call.ts';
import type { RoomCallResult, RoomTurnRecord } from './room-call.ts';
import type { ImportCost } from './harness/import-cost.ts';
import type { JobStartBreakdown } from './room-startup.ts';
import type { ReceiveStats } from './harness/room-caller.ts';
import type { Summary } from './stats.ts';

/** Worker settings one run of the load levels is made with. */
export interface RoomVariant {
  name: string;
  /** The worker's environment on top of the bench's own. */
  env: Record<string, string>;
}

export interface RoomVariantResult extends RoomVariant {
  /** Job processes kept warm. */
  warm: number;
  /** Over the variant's whole run: every job process started and every call. */
  jobStart: JobStartBreakdown;
}

/** One path of the side-by-side: the same recordings spoken with and without a room. */
export interface RoomPathResult {
  path: 'room-less' | 'room';
  how: string;
  turns: number;
  errors: number;
  /** Caller's speech end → the reply's first audible frame. */
  e2e: Summary | null;
  /** The framework's own e2e (VAD end of speech → playback start). */
  frameworkE2e: Summary | null;
  /** Per turn, caller-side e2e in order (null: the turn failed). */
  e2eSamplesMs: (number | null)[];
}

export interface WorkerUsage {
  /** CPU per call by process kind (job, inference, main, server), % of one core. */
  cpuByKindPct?: Record<string, number>;
  /** Every process of the worker (main, job, inference), average cores used over the level. */
  cpuCores: number;
  /** CPU of the job processes ÷ calls, in % of one core. */
  cpuPerJobPct: number | null;
  /**
   * CPU of the job processes that ran the calls (the largest by memory) ÷ calls, in % of one core:
   * without the warm processes started meanwhile to refill the pool (results before: none).
   */
  cpuPerCallPct?: number | null;
  /** Median peak resident memory of the job processes that ran the level's calls, MB. */
  rssPerJobMb: number | null;
  /** The worker's peak resident memory, all processes together, MB. */
  peakRssMb: number;
  /** Job processes seen during the level (its calls plus the warm idle ones). */
  jobProcesses: number;
}

export interface RoomLevelResult {
  /** The variant's name (results before variants: none). */
  variant?: string;
  calls: number;
  /** Calls whose agent joined and greeted. */
  jobsStarted: number;
  /** Spoken turns the level's calls were to have (those of calls that never started count as failed). */
  turns: number;
  failedTurns: number;
  e2e: Summary | null;
  /** Joining the room → greeting heard. */
  greeting: Summary | null;
  worker: WorkerUsage;
  /** The LiveKit server, average cores. */
  serverCpuCores: number | null;
  /** This bench process (the callers and the stand-ins), average cores. */
  benchCpuCores: number;
  wallMs: number;
  holds: boolean;
  problems: string[];
  /** The worker's warnings and errors while the level ran: each message and how often, most frequent first (at most 5). */
  workerWarnings: { level: 'warn' | 'error'; msg: string; count: number }[];
  /** Each call of the level, as it went. */
  callResults: RoomCallResult[];
  /** Job processes readied and calls started during the level, from the worker's log. */
  jobStart?: JobStartBreakdown;
  /**
   * Caller hung up → the job ended (memory flushed, process about to exit), and the jobs still
   * running when the level stopped waiting for them.
   */
  jobEndAfterHangUp?: { ms: Summary | null; notEnded: number };
  /**
   * With several LiveKit nodes: rooms per node, and jobs per worker by the node of their room
   * (`jobs[w][n]`: worker w, registered with node w, served rooms placed on node n).
   */
  spread?: { roomsPerNode: number[]; jobs: number[][]; unplaced: number; unserved: number };
}

/** One call on an impaired network (`--loss`, `--blackout`), with its per-turn e2e in order. */
export type RoomNetworkResult = Omit<NetworkCallResult, 'turnRecords'> & { e2eSamplesMs: (number | null)[] };

export interface ShareLegs {
  /** Caller's speech end → the worker's VAD end of speech. */
  inbound: Summary | null;
  /** The worker: VAD end of speech → playback start (the framework's e2e). */
  worker: Summary | null;
  /** Playback start → the first audible sample at the caller. */
  outbound: Summary | null;
  /**
   * Per turn, the way in plus the way out: the turn's e2e without the worker's own time, so it
   * does not depend on the stand-ins' latency draws (which differ between the two paths).
   */
  transport?: Summary | null;
}

/** One worker setting's room call against the room-less call of the same recordings and draws. */
export interface RoomShareResult {
  variant: string;
  room: RoomPathResult;
  /** Room e2e − room-less e2e: of the medians and of the p95s. */
  shareMs: { median: number | null; p95: number | null };
  /** Room transport − room-less transport (the legs' `transport`): of the medians and of the p95s. */
  transportShareMs?: { median: number | null; p95: number | null };
  legs: ShareLegs;
  /** The caller's receiving of the agent's audio (the way out's jitter buffer). */
  receive?: ReceiveStats;
  /** The worker's jitter buffer for the caller's audio (the way in's), its mean over the call, ms. */
  workerJitterBufferMs?: number | null;
}

export interface RoomlessLegs extends ShareLegs {
  /**
   * The first audible sample's place in its frame (the room-less frames are 100 ms): what the
   * room-less e2e left out before 2026-12-03, when it ended at the start of that frame.
   */
  audibleInFrame: Summary | null;
}

export interface RoomScenarioResult {
  fixtures: string[];
  sideBySide: RoomPathResult[];
  /** Room e2e minus room-less e2e: medians and p95s of each side. */
  transport: { medianMs: number | null; p95Ms: number | null };
  /** The room call's turns, for the record. */
  roomTurns: RoomTurnRecord[];
  /**
   * Where the room's share goes: the room-less call's legs, and a room call per worker setting
   * (`--room-variants`), each split the same way (not in older files).
   */
  share?: { roomless: RoomlessLegs; byVariant: RoomShareResult[] };
  levels: RoomLevelResult[];
  /** Highest level that held, and the first that broke (null: none did). */
  heldUpTo: number | null;
  breaksAt: number | null;
  criteria: { e2eP95MaxMs: number; joinTimeoutMs: number; jobEndWaitMs?: number };
  /** Calls on a lossy network and through a blackout, when asked for. */
  network?: RoomNetworkResult[];
  notes: string[];
  variants?: RoomVariantResult[];
  /** Loading the job's code in fresh processes, without and with Node's compile cache. */
  imports?: { withoutCache: ImportCost[]; withCache: ImportCost[] };
}
