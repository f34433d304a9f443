import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JournalRecord, parseJournal } from '../../src/memory/journal/file-format.ts';
import { JournalFile, claimOrphanFiles, pendingTurnsIn } from '../../src/memory/journal/process-file.ts';
import { compileCacheEnv, projectRoot, runNode } from '../helpers/run.ts';
import { WARN, makeTurn, recordingLogger, tempDir } from './helpers.ts';

const AGENT = 'agent-00000000-0000-4000-8000-000000000001';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

const lines = (records: JournalRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

const journalFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.jsonl'));

describe('turn journal', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('appends durably and reads back after the writer is gone', async () => {
    const j = JournalFile.create(dir);
    const [a, b, c] = [makeTurn(AGENT, 1), makeTurn(AGENT, 2), makeTurn(AGENT, 3)];
    await Promise.all([j.append({ op: 'turn', turn: a }), j.append({ op: 'turn', turn: b })]);
    await j.append({ op: 'batch', batchId: 'b1', agentId: AGENT, turnIds: [a.id] });
    await j.append({ op: 'turn', turn: c });
    await j.append({ op: 'ack', batchId: 'b1' });
    // On disk before close: the file is read by other processes.
    expect(pendingTurnsIn(dir, AGENT).map((t) => t.id)).toEqual([b.id, c.id]);
    expect(pendingTurnsIn(dir, 'agent-other')).toEqual([]);
    await j.close();

    const claimed = await claimOrphanFiles(dir);
    expect(claimed).toHaveLength(1);
    expect(claimed[0]?.pending.turns.map((t) => t.id)).toEqual([b.id, c.id]);
    expect(claimed[0]?.pending.batches).toEqual([]);
    await claimed[0]?.file.close();
  });

  it('returns an open batch with its turns, in order', async () => {
    const j = JournalFile.create(dir);
    const turns = [1, 2, 3].map((n) => makeTurn(AGENT, n));
    for (const t of turns) await j.append({ op: 'turn', turn: t });
    const turnIds = turns.slice(0, 2).map((t) => t.id);
    await j.append({ op: 'batch', batchId: 'b1', agentId: AGENT, turnIds, at: 1000 });
    // Sent again later: the last send is the one that may still be running.
    await j.append({ op: 'batch', batchId: 'b1', agentId: AGENT, turnIds, at: 2000 });
    await j.close();
    const [claimed] = await claimOrphanFiles(dir);
    expect(claimed?.pending.batches).toEqual([
      { batchId: 'b1', agentId: AGENT, turns: turns.slice(0, 2), sentAt: 2000 },
    ]);
    expect(claimed?.pending.turns).toEqual([turns[2]]);
    await claimed?.file.close();
  });

  it('skips a torn last line with one warning, and corrupt lines naming file and line', async () => {
    const pid = await deadPid();
    const name = `${Date.now()}-${pid}-torn.jsonl`;
    const [a, b] = [makeTurn(AGENT, 1), makeTurn(AGENT, 2)];
    const text = `${lines([{ op: 'turn', turn: a }])}{not json}\n${lines([{ op: 'turn', turn: b }])}{"op":"turn","turn":{"id":"x`;
    writeFileSync(join(dir, name), text);
    const { logger, lines: log } = recordingLogger();

    const claimed = await claimOrphanFiles(dir, { logger });
    expect(claimed[0]?.pending.turns.map((t) => t.id)).toEqual([a.id, b.id]);
    const warnings = log.filter((l) => l.level === WARN);
    expect(warnings.filter((l) => l.event === 'journal_torn_line')).toHaveLength(1);
    expect(warnings.filter((l) => l.event === 'journal_corrupt_line')).toEqual([
      expect.objectContaining({ file: name, line: 2 }),
    ]);

    // The claimer appends after the last complete line, never onto the torn one.
    const j = claimed[0]?.file;
    if (!j) throw new Error('not claimed');
    await j.append({ op: 'batch', batchId: 'b1', agentId: AGENT, turnIds: [a.id] });
    const reparsed = parseJournal(readFileSync(j.path, 'utf8'));
    expect(reparsed.torn).toBe(false);
    expect(reparsed.records.map((r) => r.op)).toEqual(['turn', 'turn', 'batch']);
    await j.close();
  });

  it('deletes a file once every turn in it is acknowledged or dead', async () => {
    const j = JournalFile.create(dir);
    const [a, b] = [makeTurn(AGENT, 1), makeTurn(AGENT, 2)];
    await j.append({ op: 'turn', turn: a });
    await j.append({ op: 'turn', turn: b });
    await j.append({ op: 'batch', batchId: 'b1', agentId: AGENT, turnIds: [a.id] });
    await j.append({ op: 'batch', batchId: 'b2', agentId: AGENT, turnIds: [b.id] });
    await j.append({ op: 'ack', batchId: 'b1' });
    expect(journalFiles(dir)).toHaveLength(1);
    await j.append({ op: 'dead', batchId: 'b2', reason: '422' });
    expect(journalFiles(dir)).toEqual([]);
    // The same journal carries on with a fresh file.
    await j.append({ op: 'turn', turn: makeTurn(AGENT, 3) });
    expect(journalFiles(dir)).toHaveLength(1);
    await j.close();
  });

  it('rewrites a mostly acknowledged file to its pending records', async () => {
    const j = JournalFile.create(dir);
    const pending = makeTurn(AGENT, 0);
    await j.append({ op: 'turn', turn: pending });
    for (let i = 1; i <= 20; i++) {
      const t = makeTurn(AGENT, i);
      await j.append({ op: 'turn', turn: t });
      await j.append({ op: 'batch', batchId: `b${i}`, agentId: AGENT, turnIds: [t.id] });
      await j.append({ op: 'ack', batchId: `b${i}` });
    }
    const onDisk = parseJournal(readFileSync(j.path, 'utf8'));
    // 61 lines would have been written; the rewrite past 50 lines keeps the pending turn and what came after.
    expect(onDisk.records.length).toBeLessThan(20);
    expect(onDisk.records[0]).toEqual({ op: 'turn', turn: pending });
    expect(pendingTurnsIn(dir, AGENT).map((t) => t.id)).toEqual([pending.id]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // Appends after the rewrite go to the new file.
    const late = makeTurn(AGENT, 99);
    await j.append({ op: 'turn', turn: late });
    expect(pendingTurnsIn(dir, AGENT).map((t) => t.id)).toEqual([pending.id, late.id]);
    await j.close();
  });

  it('claims files of a dead process but not of a live one', async () => {
    const dead = await deadPid();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const t1 = makeTurn(AGENT, 1);
      const t2 = makeTurn(AGENT, 2);
      const deadName = `${Date.now()}-${dead}-dead.jsonl`;
      const liveName = `${Date.now()}-${live.pid}-live.jsonl`;
      writeFileSync(join(dir, deadName), lines([{ op: 'turn', turn: t1 }]));
      writeFileSync(join(dir, liveName), lines([{ op: 'turn', turn: t2 }]));

      const claimed = await claimOrphanFiles(dir);
      expect(claimed.map((c) => c.from)).toEqual([deadName]);
      expect(claimed[0]?.pending.turns.map((t) => t.id)).toEqual([t1.id]);
      // Claimed means renamed to a name of this process; the live owner's file is untouched.
      const names = journalFiles(dir);
      expect(names).toContain(liveName);
      expect(names).not.toContain(deadName);
      expect(names.some((n) => n.split('-')[1] === String(process.pid))).toBe(true);
      // Held by this process now: a second claim finds nothing.
      expect(await claimOrphanFiles(dir)).toEqual([]);
      await claimed[0]?.file.close();

      // A live pid is not enough when the file is older than the staleness bound (pid reuse).
      expect((await claimOrphanFiles(dir, { staleMs: 60_000 })).map((c) => c.from)).not.toContain(liveName);
      await new Promise((r) => setTimeout(r, 50));
      const stale = await claimOrphanFiles(dir, { staleMs: 10 });
      expect(stale.map((c) => c.from)).toContain(liveName);
      for (const c of stale) await c.file.close();
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('gives each orphan to exactly one of two concurrent claimers', async () => {
    const pid = await deadPid();
    const names: string[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `${Date.now() - 1000 + i}-${pid}-f${i}.jsonl`;
      names.push(name);
      writeFileSync(join(dir, name), lines([{ op: 'turn', turn: makeTurn(AGENT, i) }]));
    }
    const env = { PATH: process.env.PATH ?? '', ...compileCacheEnv, DIR: dir, START_AT: String(Date.now() + 1500) };
    const script = join(projectRoot, 'test/memory/fixtures/claim.ts');
    const [r1, r2] = await Promise.all([runNode([script], { env }), runNode([script], { env })]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    const got1 = (JSON.parse(r1.stdout) as string[]).filter((n) => names.includes(n));
    const got2 = (JSON.parse(r2.stdout) as string[]).filter((n) => names.includes(n));
    expect(got1.filter((n) => got2.includes(n))).toEqual([]);
    expect([...got1, ...got2].sort()).toEqual([...names].sort());
  });
});
