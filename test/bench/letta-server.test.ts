/**
 * `--letta server` without a server: the flag, the model the server's agent steps call, the count
 * of stored turns, and the memory table with the server's rows beside the stand-in's (sample
 * figures). The run against Letta's own server itself is `npm run bench -- --scenario memory --letta server`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../bench/command.ts';
import { serverAgentModel, serverModelResponder } from '../../bench/letta-server-backend.ts';
import { renderHtml } from '../../bench/report/html.ts';
import { renderText } from '../../bench/report/format.ts';
import { readmeTables, reportTables } from '../../bench/report/tables.ts';
import { readResults, writeResults } from '../../bench/results.ts';
import { countTaggedTurns } from '../../bench/scenarios/memory.ts';
import type { ChatRequestBody } from '../../sim/index.ts';
import { sampleResults, sampleServerResults } from './sample-results.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-letta-server-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--letta', () => {
  const options = (argv: string[]) => {
    const cmd = parseCommand(argv);
    if (cmd.verb !== 'run') throw new Error('not a run');
    return cmd.options;
  };

  it('is the stand-in unless asked for the server', () => {
    expect(options([]).letta).toBe('sim');
    expect(options(['--letta', 'sim']).letta).toBe('sim');
    expect(options(['--scenario', 'memory', '--letta', 'server']).letta).toBe('server');
    expect(options(['--letta', 'server']).letta).toBe('server');
    // Asked with no scenario named: memory joins the headline run.
    expect(options(['--letta', 'server']).scenarios).toEqual(['llm', 'voice', 'memory']);
  });

  it('refuses anything else, with the choices', () => {
    expect(() => parseCommand(['--letta', 'cloud'])).toThrow('--letta must be sim or server (got "cloud")');
    expect(() => parseCommand(['--letta', 'server', '--live'])).toThrow(/--live measures the configured Letta/);
    expect(() => parseCommand(['--scenario', 'llm', '--letta', 'server'])).toThrow(
      '--letta applies to the memory scenario: add memory to --scenario, or --full',
    );
  });
});

describe("the model of the server's agent steps", () => {
  const transcript = [
    '[Voice call transcript · batch b1 · 2026-01-02T03:04:05.000Z to 2026-01-02T03:04:09.000Z]',
    'The turns below already happened on a live voice call.',
    '',
    '[2026-01-02T03:04:05.000Z] Caller: My name is Alice and I love hiking in the mountains. [#2]',
    '[2026-01-02T03:04:09.000Z] Assistant: You said: My name is Alice. [#2]',
  ].join('\n');
  const step = (content: string, tools = true): ChatRequestBody => ({
    model: 'gpt-4.1-mini',
    messages: [
      { role: 'system', content: 'You are a memory agent. <human>Nothing is known about this caller yet.</human>' },
      { role: 'user', content },
    ],
    ...(tools ? { tools: [{ type: 'function', function: { name: 'memory_insert' } }] } : {}),
  });

  it("files a caller's facts with Letta's memory tool, and answers a transcript with one short note", () => {
    const respond = serverModelResponder(() => 0);
    const filing = respond(step(transcript), 0);
    expect(filing.toolCalls?.[0]?.name).toBe('memory_insert');
    expect(filing.toolCalls?.[0]?.arguments).toContain('The caller likes hiking in the mountains.');
    expect(filing.ttftMs).toBeUndefined();
    const plain = respond(step(transcript.replace('My name is Alice and I love hiking', 'Hello'), false), 1);
    expect(plain).toEqual({ content: 'Noted. I filed what matters about the caller.' });
  });

  it('makes every model call wait while Letta is slowed', () => {
    let slowMs = 3000;
    const respond = serverModelResponder(() => slowMs);
    expect(respond(step(transcript), 0).ttftMs).toBe(3000);
    slowMs = 0;
    expect(respond(step(transcript), 1).ttftMs).toBeUndefined();
  });

  it('is asked for by the handle the self-hosted server lists', () => {
    expect(serverAgentModel).toBe('openai-proxy/gpt-4.1-mini');
  });
});

describe('counting stored turns', () => {
  it("counts each tagged caller line, not the assistant's echo of it", () => {
    const batch = (ids: number[]) =>
      ids
        .flatMap((i) => [`[t] Caller: prompt ${i} [#${i}]`, `[t] Assistant: You said: prompt ${i} [#${i}]`])
        .join('\n');
    expect(countTaggedTurns([batch([0, 1]), batch([3]), batch([3]), batch([9])], 5)).toEqual([1, 1, 0, 2, 0]);
  });
});

describe("the memory table with Letta's own server", () => {
  const r = sampleServerResults();
  const memory = reportTables(r).find((t) => t.title.startsWith('Memory'))!;

  it("shows the server's rows beside the stand-in's, in a Letta column", () => {
    expect(memory.columns.slice(0, 3)).toEqual(['Letta', 'journal', 'phase']);
    expect(memory.columns.slice(-2)).toEqual(['lost', 'dups']);
    expect(memory.rows.map((row) => row.slice(0, 3))).toEqual([
      ['stand-in', 'file', 'healthy'],
      ['stand-in', 'file', 'slowed +3000 ms, then down'],
      ['server', 'file', 'healthy'],
      ['server', 'file', 'model calls 3000 ms, then stopped'],
    ]);
    const lines = renderText(memory).split('\n');
    expect(lines.find((l) => l.startsWith('server    file     healthy'))).toMatch(/\s1600\s+1690\s+350\s+0\s+–\s+–$/);
    expect(lines.find((l) => l.startsWith('server    file     model'))).toMatch(/\s28000\s+29800\s+7000\s+7\s+1\s+0$/);
  });

  it('compares lag, lost and duplicated first, and says when the server missed 0 and 0', () => {
    expect(memory.notes[0]).toBe(
      "file journal, Letta's own server vs the stand-in: lag med 1600 vs 5500 ms healthy, 28000 vs 16000 ms under faults; lost 1 vs 0, duplicated 0 vs 0 (REQUIRED: 0 and 0 on the server)",
    );
    expect(memory.notes).toContain(
      "file journal, Letta's own server: 16 turns submitted: 1 lost, 0 duplicated (REQUIRED: 0 and 0)",
    );
    expect(memory.notes).toContain('file journal, stand-in: 16 turns submitted: 0 lost, 0 duplicated (as required)');
    expect(memory.notes.some((n) => n.includes('then the server was stopped for 24.0 s, its restart included'))).toBe(
      true,
    );
    expect(memory.notes.some((n) => n.includes('no batch refused for good (the server gets no 422)'))).toBe(true);
    expect(memory.notes).toContain(
      "file journal, Letta's own server: the server's store holds 6 user messages (6 distinct otids) and 0 passages for the caller's agent",
    );
    // The README keeps three notes: the comparison is one of them.
    const readme = readmeTables(r).find((t) => t.title.startsWith('Memory'))!;
    expect(readme.notes[0]).toBe(memory.notes[0]);
    expect(readme.columns[0]).toBe('Letta');
  });

  it('leaves the stand-in-only table as it was', () => {
    const plain = reportTables(sampleResults()).find((t) => t.title.startsWith('Memory'))!;
    expect(plain.columns[0]).toBe('journal');
    expect(plain.rows.map((row) => row[0])).toEqual(['file', 'file']);
    expect(plain.notes[0]).toMatch(/^Letta slowed for 4 turns/);
  });

  it('keeps the Letta of each run in the results file and labels the lag chart with it', () => {
    const file = join(dir, 'server.json');
    writeResults(file, r);
    expect(readResults(file).scenarios.memory?.map((m) => m.letta)).toEqual([undefined, 'server']);
    const html = renderHtml(r);
    expect(html).toContain('file · server: healthy');
    expect(html).toContain('file · stand-in: slowed, then down');
  });
});
