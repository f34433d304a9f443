/**
 * Every turn lands exactly once in each write mode, checked in Letta's own store (the `otid` of
 * each batch in messages mode, the batch's passage in archival mode, the captured exchange in
 * capture mode), never by the writer's log. Written through the product's writer and journal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callerAgentTemplate } from '../../src/memory/agent-template.ts';
import { FileJournal } from '../../src/memory/journal/file-journal.ts';
import { createLettaClient } from '../../src/memory/letta-client.ts';
import { LettaWrites, type WriteMode } from '../../src/memory/letta-writes.ts';
import type { AckEvent } from '../../src/memory/writer/writer-events.ts';
import { TurnWriter } from '../../src/memory/writer/turn-writer.ts';
import { makeTurn, recordingLogger } from '../memory/helpers.ts';
import { lettaUrl, proxyModel, server, serverMessages, serverOtids } from './helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A caller's agent from the product's template, and the product's writer over a fresh journal. */
async function setup(mode: WriteMode, name: string) {
  const agent = await server.agents.create(callerAgentTemplate(name, proxyModel));
  const dir = await mkdtemp(join(tmpdir(), 'letta-modes-'));
  const { logger } = recordingLogger();
  const writer = new TurnWriter({
    writes: new LettaWrites({ client: createLettaClient({ baseURL: lettaUrl }, 30_000), mode, logger }),
    journal: new FileJournal(dir, { logger }),
    logger,
    backoffBaseMs: 50,
    backoffCapMs: 500,
  });
  const acks: AckEvent[] = [];
  writer.on('ack', (ev) => acks.push(ev));
  cleanups.push(async () => {
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { agentId: agent.id, writer, acks };
}

/** Six turns, submitted in two bursts so that they travel in more than one batch. */
async function writeSix(writer: TurnWriter, agentId: string, tag: string): Promise<string[]> {
  const turns = [1, 2, 3, 4, 5, 6].map((n) => makeTurn(agentId, n, { user: `${tag} caller says [${n}]` }));
  for (const t of turns.slice(0, 3)) await writer.submit(t);
  expect((await writer.flush(60_000)).drained).toBe(true);
  for (const t of turns.slice(3)) await writer.submit(t);
  expect((await writer.flush(60_000)).drained).toBe(true);
  return turns.map((t) => t.user);
}

function once(haystacks: string[], needles: string[]): number[] {
  return needles.map((n) => haystacks.filter((h) => h.includes(n)).length);
}

describe('each write mode against Letta’s own server', () => {
  it('messages: each batch is one user message carrying its otid, each turn in exactly one', async () => {
    const { agentId, writer, acks } = await setup('messages', 'mode-messages');
    const lines = await writeSix(writer, agentId, 'messages');
    const otids = await serverOtids(agentId);
    expect(otids.filter((o) => acks.some((a) => a.batchId === o)).sort()).toEqual(acks.map((a) => a.batchId).sort());
    expect(new Set(otids).size).toBe(otids.length);
    const texts = (await serverMessages(agentId)).flatMap((m) =>
      m.message_type === 'user_message' && typeof m.content === 'string' ? [m.content] : [],
    );
    expect(once(texts, lines)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('archival: each batch is one passage tagged with its id, each turn in exactly one', async () => {
    const { agentId, writer, acks } = await setup('archival', 'mode-archival');
    const lines = await writeSix(writer, agentId, 'archival');
    const passages = await server.agents.passages.list(agentId, { limit: 100 });
    for (const ack of acks) expect(passages.filter((p) => p.tags?.includes(`batch:${ack.batchId}`))).toHaveLength(1);
    expect(
      once(
        passages.map((p) => p.text),
        lines,
      ),
    ).toEqual([1, 1, 1, 1, 1, 1]);
    // No agent step ran: the passages are plain inserts.
    expect((await serverMessages(agentId)).filter((m) => m.message_type === 'user_message')).toHaveLength(0);
  });

  it('capture: each batch is captured once, as an exchange in the agent’s history', async () => {
    const { agentId, writer, acks } = await setup('capture', 'mode-capture');
    const lines = await writeSix(writer, agentId, 'capture');
    expect(acks.every((a) => a.mode === 'capture')).toBe(true);
    const texts = (await serverMessages(agentId)).flatMap((m) =>
      m.message_type === 'user_message' && typeof m.content === 'string' ? [m.content] : [],
    );
    expect(once(texts, lines)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});
