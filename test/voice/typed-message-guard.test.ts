import type { voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import {
  RateLimiter,
  defaultTypedMessageLimits,
  guardTypedMessages,
  typedMessageSchema,
} from '../../src/voice/typed-message-guard.ts';
import { WARN, recordingLogger } from '../memory/helpers.ts';

const session = {} as voice.AgentSession;

function guarded(limits = defaultTypedMessageLimits) {
  const answered: string[] = [];
  const told: string[] = [];
  let clock = 0;
  const { logger, lines } = recordingLogger();
  const guard = guardTypedMessages(
    (_s, ev) => {
      answered.push(ev.text);
    },
    { limits, logger, tell: async (t) => void told.push(t), now: () => clock },
  );
  return {
    send: (text: string) => guard(session, { text }),
    advance: (ms: number) => (clock += ms),
    answered,
    told,
    warnings: () => lines.filter((l) => l.level >= WARN),
  };
}

describe('the rate limiter', () => {
  it('lets a burst through, then the average rate', () => {
    let t = 0;
    const r = new RateLimiter(2, 3, () => t);
    expect([r.take(), r.take(), r.take(), r.take()]).toEqual([true, true, true, false]);
    t += 499;
    expect(r.take()).toBe(false);
    t += 1;
    expect(r.take()).toBe(true);
    t += 60_000;
    // A long quiet spell refills the burst, no more.
    expect([r.take(), r.take(), r.take(), r.take()]).toEqual([true, true, true, false]);
  });
});

describe('typed messages', () => {
  it('a flood of 100 a second for 2 s: burst plus rate answered, the rest dropped with one log line', async () => {
    const g = guarded({ maxChars: 2000, perSecond: 1, burst: 5 });
    for (let i = 0; i < 200; i++) {
      await g.send(`message ${i}`);
      g.advance(10);
    }
    // 5 at once, then one a second over the 2 s.
    expect(g.answered.length).toBeGreaterThanOrEqual(6);
    expect(g.answered.length).toBeLessThanOrEqual(7);
    expect(g.answered.slice(0, 5)).toEqual(['message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
    expect(g.warnings()).toHaveLength(1);
    expect(g.warnings()[0]).toMatchObject({ event: 'typed_messages_rate_limited' });
    expect(g.told).toEqual([]);
  });

  it('a 1 MB message is refused: never answered, the caller told why, the text kept out of the log', async () => {
    const g = guarded();
    const huge = 'a'.repeat(1024 * 1024);
    await g.send(huge);
    expect(g.answered).toEqual([]);
    expect(g.told).toHaveLength(1);
    expect(g.told[0]).toContain('longer than 2000 characters');
    expect(g.warnings()).toHaveLength(1);
    expect(g.warnings()[0]).toMatchObject({ event: 'typed_message_refused', chars: huge.length });
    expect(JSON.stringify(g.warnings())).not.toContain('aaaa');
    // The guard still answers what follows.
    await g.send('  hello  ');
    expect(g.answered).toEqual(['hello']);
  });

  it('malformed text never reaches the answer; empty text is ignored without a notice', async () => {
    const g = guarded();
    for (const bad of ['\u0000\u0001binary', 'bell\u0007', '\ud800 lone surrogate', 'tail \udc00', 'sent as \ufffd'])
      await g.send(bad);
    await g.send('   ');
    expect(g.answered).toEqual([]);
    expect(g.told).toHaveLength(5);
    expect(g.told.every((t) => /control characters|not valid text/.test(t))).toBe(true);
  });

  it('keeps what people type: newlines, tabs, accents, emoji, paired surrogates', () => {
    const schema = typedMessageSchema(2000);
    for (const ok of ['Line one\nline two\tend', 'Crème brûlée, ça va ?', 'Thanks 👍🏽', '日本語のテキスト']) {
      expect(schema.safeParse(ok)).toMatchObject({ success: true, data: ok });
    }
    expect(schema.safeParse('x'.repeat(2001)).success).toBe(false);
    expect(schema.safeParse(42).success).toBe(false);
  });
});
