/**
 * What a caller types (`lk.chat`) is untrusted: anyone holding a token can send a hundred messages
 * a second, one of a megabyte, or bytes no one would type. Each typed message costs a reply from
 * the model and a write to the caller's Letta agent, so the guard sits in front of both: a token
 * bucket per call (excess messages dropped, with one log line per call, not one per message), and
 * a schema for what a typed message may be. A refused message gets a short answer in the room,
 * so the caller knows why nothing happened; nothing refused reaches the model or Letta.
 */
import type { voice } from '@livekit/agents';
import { z } from 'zod';
import type { Logger } from '../telemetry/logger.ts';

export interface TypedMessageLimits {
  /** Longest message answered, in characters (after trimming). */
  maxChars: number;
  /** Messages answered per second, on average. */
  perSecond: number;
  /** Messages that may arrive at once after a quiet spell. */
  burst: number;
}

export const defaultTypedMessageLimits: TypedMessageLimits = { maxChars: 2000, perSecond: 1, burst: 5 };

/** Control characters other than tab and newlines: no one types them. */
const CONTROL = /(?![\t\n\r])\p{Cc}/u;
/**
 * A UTF-16 surrogate without its pair (in `u` mode a pair is one code point, not `Cs`), or U+FFFD,
 * which is what such bytes become on the way through UTF-8: text broken before it arrived.
 */
const BROKEN = /\p{Cs}|\uFFFD/u;

export function typedMessageSchema(maxChars: number) {
  return z
    .string()
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, 'empty')
        .max(maxChars, `longer than ${maxChars} characters`)
        .refine((s) => !CONTROL.test(s), 'control characters')
        .refine((s) => !BROKEN.test(s), 'not valid text'),
    );
}

/** A token bucket: `take()` is true while the average rate and the burst allow. */
export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, burst: number, now: () => number = Date.now) {
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#at = now();
  }

  take(): boolean {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (t - this.#at) * this.#perMs);
    this.#at = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface GuardOptions {
  limits?: TypedMessageLimits;
  logger: Logger;
  /** Tells the caller, in the room, why a message was not answered. */
  tell: (text: string) => Promise<void>;
  now?: () => number;
}

/** Wraps RoomIO's text input callback: only messages within the rate and the schema reach `answer`. */
export function guardTypedMessages(answer: voice.TextInputCallback, o: GuardOptions): voice.TextInputCallback {
  const limits = o.limits ?? defaultTypedMessageLimits;
  const schema = typedMessageSchema(limits.maxChars);
  const bucket = new RateLimiter(limits.perSecond, limits.burst, o.now);
  let dropped = 0;
  return async (session, ev) => {
    if (!bucket.take()) {
      // One line per call: a flood must not turn into a flood of log lines.
      if (dropped++ === 0) {
        o.logger.warn(
          { event: 'typed_messages_rate_limited', perSecond: limits.perSecond, burst: limits.burst },
          'typed messages arrive faster than allowed; the excess is dropped unanswered (logged once per call)',
        );
      }
      return;
    }
    const checked = schema.safeParse(ev.text);
    if (!checked.success) {
      const why = checked.error.issues[0]?.message ?? 'not valid';
      // The text itself stays out of the log: it is the caller's, and may be a megabyte.
      o.logger.warn(
        { event: 'typed_message_refused', reason: why, chars: ev.text.length },
        'a typed message was refused before the model or memory saw it',
      );
      if (why !== 'empty') {
        await o.tell(`I could not read that message (${why}). Please type a shorter, plain message.`).catch(() => {});
      }
      return;
    }
    await answer(session, { ...ev, text: checked.data });
  };
}
