/**
 * What a rescue dispatch tells the new job (src/calls/call-rescue.ts): which job died, the caller's
 * words it was answering, and the jobs that served the call before it (a call rescued twice).
 */
import { type CallRecord, EARLIER_JOBS_MAX, OPEN_TURN_MAX_CHARS, type OpenTurn } from './call-leases.ts';

export interface RescueMetadata {
  /** The job that died. */
  rescueOf: string;
  /** The caller's words it was answering when it died. */
  openTurn?: OpenTurn;
  /** Jobs that served the call before the one that died (earlier rescues), oldest first. */
  earlierJobs?: string[];
}

/** Every job that served the call before the rescued one, oldest first. */
export function callJobs(m: RescueMetadata): string[] {
  return [...(m.earlierJobs ?? []), m.rescueOf];
}

/** The metadata of the dispatch that rescues a call whose lease lapsed. */
export function rescueMetadataFor(call: CallRecord): RescueMetadata {
  const open = call.openTurn;
  const earlier = (call.earlierJobs ?? []).slice(-EARLIER_JOBS_MAX);
  return {
    rescueOf: call.job,
    ...(open ? { openTurn: { user: open.user.slice(0, OPEN_TURN_MAX_CHARS), userAt: open.userAt } } : {}),
    ...(earlier.length ? { earlierJobs: earlier } : {}),
  };
}

/** The dispatch metadata of a rescue, or null for an ordinary call. */
export function rescueOf(metadata: string | undefined): RescueMetadata | null {
  if (!metadata) return null;
  try {
    const m = JSON.parse(metadata) as Partial<RescueMetadata>;
    if (typeof m.rescueOf !== 'string') return null;
    const t = m.openTurn;
    const open = t && typeof t.user === 'string' && typeof t.userAt === 'number' ? t : undefined;
    const earlier = Array.isArray(m.earlierJobs) ? m.earlierJobs.filter((j) => typeof j === 'string') : [];
    return {
      rescueOf: m.rescueOf,
      ...(open ? { openTurn: { user: open.user, userAt: open.userAt } } : {}),
      ...(earlier.length ? { earlierJobs: earlier.slice(-EARLIER_JOBS_MAX) } : {}),
    };
  } catch {
    return null;
  }
}
