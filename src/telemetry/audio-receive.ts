/**
 * How a participant's audio reaches this side of a room: the mean time a received sample spent in
 * WebRTC's jitter buffer (NetEq) so far in the session, from the room's own stats. On a fast,
 * clean network that buffer is most of the transport's delay one way.
 */
import type { Room } from '@livekit/rtc-node';

export interface AudioReceive {
  /** `jitterBufferDelay` ÷ `jitterBufferEmittedCount` of the received audio, ms; null before any. */
  jitterBufferMs: number | null;
  /** The buffer's target delay, averaged the same way (what NetEq aims at given the arrival jitter), ms. */
  jitterBufferTargetMs: number | null;
}

const none: AudioReceive = { jitterBufferMs: null, jitterBufferTargetMs: null };

/** The first received audio stream's figures (a call has one); none when stats cannot be read. */
export async function audioReceiveOf(room: Room): Promise<AudioReceive> {
  const stats = await room.getRtcStats().catch(() => undefined);
  for (const s of [...(stats?.subscriberStats ?? []), ...(stats?.publisherStats ?? [])]) {
    if (s.stats.case !== 'inboundRtp' || s.stats.value.stream?.kind !== 'audio') continue;
    const inbound = s.stats.value.inbound;
    const count = Number(inbound?.jitterBufferEmittedCount ?? 0);
    if (!inbound || count === 0) continue;
    // WebRTC's totals are seconds summed over every emitted sample.
    const mean = (seconds: number | undefined) => (seconds === undefined ? null : (seconds / count) * 1000);
    return {
      jitterBufferMs: mean(inbound.jitterBufferDelay),
      jitterBufferTargetMs: mean(inbound.jitterBufferTargetDelay),
    };
  }
  return none;
}
