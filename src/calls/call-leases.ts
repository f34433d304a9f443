/**
 * A call's lease: while a job serves a caller it renews a lease on the room; a lease that lapses
 * means the job process or its whole worker died with the caller still there. LiveKit's own
 * server (1.13.5) never dispatches a room again after its agent is gone, so a live worker takes
 * the lapsed lease over (one claimer only) and brings the call an agent again (call-rescue.ts).
 *
 * Two stores, chosen like the memory journal: Redis (`MEMORY_JOURNAL_URL`: every worker sees every
 * call) or files in `MEMORY_JOURNAL_DIR` (the workers of one machine).
 */
/** The caller's words of a turn not finished yet (the agent still answering): lost with the job otherwise. */
export interface OpenTurn {
  user: string;
  /** Epoch ms: when the caller's words were committed. */
  userAt: number;
}

export interface CallRecord {
  room: string;
  /** The LiveKit job that served the call. */
  job: string;
  /** The caller's participant identity. */
  caller: string;
  /** The agent's participant identity in the room (a dead one lingers there for ~15 s). */
  agentIdentity: string;
  /** The dispatch name the worker registered with ('' for automatic dispatch). */
  agentName: string;
  /** Set while the agent is answering: the rescue carries it to the next agent, and so to memory. */
  openTurn?: OpenTurn;
  /** Jobs that served this call before `job` (their agents died), oldest first. */
  earlierJobs?: string[];
}

/** Bound on an open turn's words carried in a record and a dispatch's metadata. */
export const OPEN_TURN_MAX_CHARS = 4000;
/** Bound on the earlier jobs of a call carried from rescue to rescue (the newest kept). */
export const EARLIER_JOBS_MAX = 8;

export interface CallHold {
  /** The turn being answered, or null once its answer is finished. */
  update(openTurn: OpenTurn | null): void;
  /** The call is over (the caller left): its lease goes away and nobody rescues it. */
  end(): Promise<void>;
}

export interface CallLeases {
  readonly leaseMs: number;
  /** Holds the call's lease, renewed several times per `leaseMs`, until `end` or the process dies. */
  hold(call: CallRecord): CallHold;
  /** Calls whose lease has lapsed. */
  lapsed(): Promise<CallRecord[]>;
  /** Takes a lapsed call over: true for exactly one claimer, false when it was renewed or taken. */
  claim(call: CallRecord): Promise<boolean>;
  /** Stops renewing this process's holds (their leases lapse: nothing is ended) and lets go of the store. */
  close(): Promise<void>;
}

/** How often a lease is renewed: five times per lease, so one slow renewal never lets it lapse. */
export function renewEvery(leaseMs: number): number {
  return Math.max(200, Math.floor(leaseMs / 5));
}

export function sameCall(a: CallRecord, b: CallRecord): boolean {
  return a.room === b.room && a.job === b.job;
}

export function parseCall(text: string | null | undefined): CallRecord | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<CallRecord>;
    const fields = [c.room, c.job, c.caller, c.agentIdentity, c.agentName];
    return fields.every((f) => typeof f === 'string') ? (c as CallRecord) : null;
  } catch {
    return null;
  }
}
