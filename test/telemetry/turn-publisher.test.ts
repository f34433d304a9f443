import { describe, expect, it } from 'vitest';
import { turnMessage } from '../../src/telemetry/turn-publisher.ts';

describe('turn figures for the caller', () => {
  it('carries the turn_latency figures in snake case, null where unmeasured, and no transcript', () => {
    const m = turnMessage(
      2,
      {
        userText: 'Hello, can you hear me?',
        assistantText: 'You said: Hello',
        interrupted: false,
        transcriptionDelayMs: 120,
        endOfTurnDelayMs: 410,
        llmTtftMs: 230,
        ttsTtfbMs: 180,
        e2eMs: undefined,
        userStoppedAt: 1_764_000_000_000,
        agentStartedAt: undefined,
      },
      { jitterBufferMs: 63.6, jitterBufferTargetMs: 60 },
    );
    expect(m).toEqual({
      turn: 2,
      interrupted: false,
      end_of_turn_ms: 410,
      llm_ttft_ms: 230,
      tts_ttfb_ms: 180,
      e2e_ms: null,
      transcription_delay_ms: 120,
      user_stopped_at: 1_764_000_000_000,
      agent_started_at: null,
      jitter_buffer_ms: 64,
    });
    expect(JSON.stringify(m)).not.toContain('Hello');
  });
});
