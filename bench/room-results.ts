/** The room scenario's part of the results file (see results.ts for the rest). */
import type { RoomCallResult, RoomTurnRecord } from './room-call.ts';
import type { Summary } from './stats.ts';

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
  /** Every process of the worker (main, job, inference), average cores used over the level. */
  cpuCores: number;
  /** CPU of the job processes ÷ calls, in % of one core. */
  cpuPerJobPct: number | null;
  /** Median peak resident memory of the job processes that ran the level's calls, MB. */
  rssPerJobMb: number | null;
  /** The worker's peak resident memory, all processes together, MB. */
  peakRssMb: number;
  /** Job processes seen during the level (its calls plus the warm idle ones). */
  jobProcesses: number;
}

export interface RoomLevelResult {
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
  /**
   * With several LiveKit nodes: rooms per node, and jobs per worker by the node of their room
   * (`jobs[w][n]`: worker w, registered with node w, served rooms placed on node n).
   */
  spread?: { roomsPerNode: number[]; jobs: number[][]; unplaced: number; unserved: number };
}

export interface RoomScenarioResult {
  fixtures: string[];
  sideBySide: RoomPathResult[];
  /** Room e2e minus room-less e2e: medians and p95s of each side. */
  transport: { medianMs: number | null; p95Ms: number | null };
  /** The room call's turns, for the record. */
  roomTurns: RoomTurnRecord[];
  levels: RoomLevelResult[];
  /** Highest level that held, and the first that broke (null: none did). */
  heldUpTo: number | null;
  breaksAt: number | null;
  criteria: { e2eP95MaxMs: number; joinTimeoutMs: number };
  notes: string[];
}
