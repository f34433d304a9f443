import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TurnWriterEvents } from '../../src/memory/writer/writer-events.ts';
import { aboutTheCaller, type MemoryMessage, publishMemory } from '../../src/telemetry/memory-publisher.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('memory panel messages for the caller', () => {
  it("sends the caller's memory block at the start, then only this caller's turns as journaled and acknowledged", async () => {
    const writer = new EventEmitter<TurnWriterEvents>();
    const sent: MemoryMessage[] = [];
    const stop = publishMemory(
      {
        context: {
          snapshot: () => ({
            blocks: [
              { label: 'persona', value: 'I am a helpful voice assistant.' },
              { label: 'human', value: ' Erin keeps bees. ' },
            ],
            recentTurns: [{ user: 'My hive swarmed.', assistant: 'Oh no!', at: 1, interrupted: false }],
          }),
        },
        agentId: Promise.resolve('agent-erin'),
        ready: Promise.resolve('in-time'),
      },
      writer,
      4000,
      async (json) => void sent.push(JSON.parse(json) as MemoryMessage),
      (err) => {
        throw err;
      },
    );
    await tick();
    // Readable: the block's text alone, no prompt framing, not the agent's persona.
    expect(sent[0]).toEqual({
      kind: 'start',
      status: 'in-time',
      about_you: 'Erin keeps bees.',
      earlier_turns: [{ caller: 'My hive swarmed.', agent: 'Oh no!' }],
    });

    writer.emit('queued', { agentId: 'agent-erin', turnId: 't1', queueDepth: 1 });
    writer.emit('queued', { agentId: 'agent-other', turnId: 'x1', queueDepth: 2 });
    const ack = { batchId: 'b', mode: 'messages' as const, attempts: 1, queueDepth: 0 };
    writer.emit('ack', { ...ack, agentId: 'agent-other', turnIds: ['x1'], lagMs: [90] });
    writer.emit('ack', { ...ack, agentId: 'agent-erin', turnIds: ['t1'], lagMs: [420] });
    await tick();
    expect(sent.slice(1)).toEqual([
      { kind: 'journaled', turn_id: 't1' },
      { kind: 'acked', turn_ids: ['t1'], lag_ms: [420] },
    ]);

    stop();
    writer.emit('queued', { agentId: 'agent-erin', turnId: 't2', queueDepth: 1 });
    await tick();
    expect(sent).toHaveLength(3);
  });

  it('says so when the read failed, with nothing about the caller', async () => {
    const sent: MemoryMessage[] = [];
    publishMemory(
      {
        context: { snapshot: () => ({ blocks: [], recentTurns: [] }) },
        agentId: Promise.reject(new Error('Letta down')),
        ready: Promise.resolve('failed'),
      },
      new EventEmitter<TurnWriterEvents>(),
      4000,
      async (json) => void sent.push(JSON.parse(json) as MemoryMessage),
      () => undefined,
    );
    await tick();
    expect(sent).toEqual([{ kind: 'start', status: 'failed', about_you: null, earlier_turns: [] }]);
  });

  it('keeps within the size bound: the block cut short, then only the newest earlier turns that fit', () => {
    const turn = (n: number) => ({ user: `question ${n}`, assistant: `answer ${n}`, at: n, interrupted: false });
    const long = aboutTheCaller({ blocks: [{ label: 'human', value: 'x'.repeat(50) }], recentTurns: [turn(1)] }, 20);
    expect(long).toEqual({ about_you: `${'x'.repeat(19)}…`, earlier_turns: [] });
    const some = aboutTheCaller({ blocks: [], recentTurns: [turn(1), turn(2), turn(3)] }, 40);
    expect(some.earlier_turns.map((t) => t.caller)).toEqual(['question 2', 'question 3']);
  });
});
