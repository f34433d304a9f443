import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TurnWriterEvents } from '../../src/memory/writer/writer-events.ts';
import { type MemoryMessage, publishMemory } from '../../src/telemetry/memory-publisher.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('memory panel messages for the caller', () => {
  it("sends the prompt's memory section at the start, then only this caller's turns as journaled and acknowledged", async () => {
    const writer = new EventEmitter<TurnWriterEvents>();
    const sent: MemoryMessage[] = [];
    const stop = publishMemory(
      {
        context: { snapshot: () => ({ blocks: [{ label: 'human', value: 'Erin keeps bees.' }], recentTurns: [] }) },
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
    expect(sent[0]).toMatchObject({ kind: 'start', status: 'in-time' });
    expect(sent[0]?.kind === 'start' && sent[0].section).toContain('Erin keeps bees.');

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

  it('says so when the read failed, with no section', async () => {
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
    expect(sent).toEqual([{ kind: 'start', status: 'failed', section: null }]);
  });
});
