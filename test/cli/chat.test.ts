/** `npm run chat` as a user runs it: a child process, configured by environment. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { noRedisReason, redisServerPath, startRedis } from '../../bench/redis-server.ts';
import {
  type LettaRequestLogEntry,
  type LettaStandIn,
  startLettaStandIn,
  type OpenAIStandIn,
  startOpenAIStandIn,
} from '../../sim/index.ts';
import { isSorted, occurrences, positions, until, userTexts } from '../memory/helpers.ts';
import { memorySections } from '../helpers/prompts.ts';
import { cleanEnv, projectRoot, runNode } from '../helpers/run.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scratch(lines: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'chat-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const script = join(dir, 'script.txt');
  await writeFile(script, `${lines.join('\n')}\n`);
  return { dir, script, journal: join(dir, 'journal') };
}

async function services(): Promise<{ openai: OpenAIStandIn; letta: LettaStandIn }> {
  const openai = await startOpenAIStandIn();
  const letta = await startLettaStandIn({ modelBaseUrl: openai.url });
  cleanups.push(async () => {
    await letta.close();
    await openai.close();
  });
  return { openai, letta };
}

/** How long the Redis journal lets a dead worker's turns sit before another takes them over. */
const CLAIM_IDLE_MS = 1000;

function journaledInFiles(dir: string, lines: string[]): () => Promise<boolean> {
  return async () => {
    const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.jsonl'));
    const text = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('');
    return lines.every((l) => text.includes(l));
  };
}

function journaledInRedis(url: string, lines: string[]): () => Promise<boolean> {
  return async () => {
    const redis = new Redis(url);
    try {
      const keys = await redis.keys('lk-memory:w:*');
      const streams = keys.filter((k) => !k.endsWith(':alive') && !k.endsWith(':batches'));
      const text = JSON.stringify(await Promise.all(streams.map((k) => redis.xrange(k, '-', '+'))));
      return lines.every((l) => text.includes(l));
    } finally {
      redis.disconnect();
    }
  };
}

const isWrite = (r: LettaRequestLogEntry) => r.method === 'POST' && r.path.endsWith('/messages');

function chat(args: string[], env: Record<string, string>) {
  return runNode(['src/cli/chat.ts', ...args], { env: cleanEnv(env), timeoutMs: 60_000 });
}

describe('npm run chat', () => {
  it('answers each line of a script against the built-in stand-in, with no keys at all', async () => {
    const { script } = await scratch(['Hello there', 'What can you do?', 'Thanks']);
    const r = await chat(['--script', script, '--sim'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('using the built-in OpenAI stand-in');
    expect(r.stdout).toContain('memory: none');
    expect(r.stdout.match(/^agent> .+/gm)).toHaveLength(3);
    expect(r.stdout).toContain('agent> You said: Hello there');
  });

  it('--via letta: the caller’s own Letta agent answers, streamed, and remembers it once', async () => {
    const { openai, letta } = await services();
    const { script, journal } = await scratch(['My sister is called Maud.']);
    const env = {
      OPENAI_API_KEY: 'sim-key-123456',
      OPENAI_BASE_URL: openai.url,
      LETTA_BASE_URL: letta.url,
      MEMORY_JOURNAL_DIR: journal,
    };
    const r = await chat(['--script', script, '--identity', 'kim', '--via', 'letta'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/agent> \S.+/);
    const agentId = letta.store.agents().find((a) => a.tags.includes('lk-caller:kim'))!.id;
    const sent = letta.requests.filter((x) => x.method === 'POST' && x.path === `/v1/agents/${agentId}/messages`);
    expect(sent.map((x) => (x.body as { stream_tokens?: boolean }).stream_tokens)).toEqual([true]);
    expect(occurrences(userTexts(letta, agentId), ['My sister is called Maud.'])).toEqual([1]);
    expect((await chat(['--via', 'letta', '--script', script], {})).code).toBe(2);
  });

  it('rejects bad arguments with the usage and exit code 2', async () => {
    const r = await chat(['--bogus'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: npm run chat');
  });

  it('remembers a caller across runs: the second run sees the first run’s turns', async () => {
    const { openai, letta } = await services();
    const first = await scratch(['My favourite colour is teal.']);
    const env = {
      OPENAI_API_KEY: 'sim-key-123456',
      OPENAI_BASE_URL: openai.url,
      LETTA_BASE_URL: letta.url,
      MEMORY_JOURNAL_DIR: first.journal,
    };
    const r1 = await chat(['--script', first.script, '--identity', 'grace'], env);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toContain('memory: Letta');

    const second = await scratch(['What is my favourite colour?']);
    const r2 = await chat(['--script', second.script, '--identity', 'grace'], env);
    expect(r2.code).toBe(0);
    expect(memorySections(openai).at(-1)).toContain('My favourite colour is teal.');
    // Another caller does not see it.
    const r3 = await chat(['--script', second.script, '--identity', 'heidi'], env);
    expect(r3.code).toBe(0);
    expect(memorySections(openai).at(-1) ?? '').not.toContain('teal');
  });

  it('waits a bounded time for pending writes at exit, journals the rest, and sends it on the next start', async () => {
    const { openai, letta } = await services();
    const { script, journal } = await scratch(['Remember: the meeting is on Friday.', 'And bring the slides.']);
    const env = {
      OPENAI_API_KEY: 'sim-key-123456',
      OPENAI_BASE_URL: openai.url,
      LETTA_BASE_URL: letta.url,
      MEMORY_JOURNAL_DIR: journal,
      LETTA_SHUTDOWN_FLUSH_MS: '1000',
    };
    await letta.faults.set({ kind: 'status', status: 503, match: { method: 'POST', path: /\/messages$/ } });
    const started = Date.now();
    const r1 = await chat(['--script', script, '--identity', 'ivan'], env);
    expect(r1.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r1.stdout).toMatch(/2 turn\(s\) not yet in Letta; journaled/);
    expect((await readdir(journal)).some((f) => f.endsWith('.jsonl'))).toBe(true);

    await letta.faults.clear();
    const next = await scratch(['Hi again.']);
    const r2 = await chat(['--script', next.script, '--identity', 'ivan'], {
      ...env,
      LETTA_SHUTDOWN_FLUSH_MS: '10000',
    });
    expect(r2.code).toBe(0);
    const agentId = letta.store.agents().find((a) => a.tags.includes('lk-caller:ivan'))!.id;
    const texts = userTexts(letta, agentId);
    expect(
      occurrences(texts, [
        'Caller: Remember: the meeting is on Friday.',
        'Caller: And bring the slides.',
        'Caller: Hi again.',
      ]),
    ).toEqual([1, 1, 1]);
  });

  const journals = ['file', ...(redisServerPath() ? ['redis'] : [])] as const;
  // Without redis-server the Redis case does not run; this says so, with the reason, in the report.
  if (!redisServerPath()) it.skip(`SIGKILL with the Redis journal: ${noRedisReason}`, () => undefined);

  it.each(journals)(
    'loses nothing and duplicates nothing when killed with SIGKILL while writes are pending (%s journal)',
    async (kind) => {
      const { openai, letta } = await services();
      const lines = ['First fact: I live in Oslo.', 'Second fact: I have two cats.', 'Third fact: I play the cello.'];
      const { script, journal } = await scratch(lines);
      const redis = kind === 'redis' ? await startRedis() : undefined;
      if (redis) cleanups.push(() => redis.stop());
      const env = {
        OPENAI_API_KEY: 'sim-key-123456',
        OPENAI_BASE_URL: openai.url,
        LETTA_BASE_URL: letta.url,
        MEMORY_JOURNAL_DIR: journal,
        ...(redis ? { MEMORY_JOURNAL_URL: redis.url, MEMORY_JOURNAL_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS) } : {}),
      };
      const journaled = redis ? journaledInRedis(redis.url, lines) : journaledInFiles(journal, lines);
      // Letta takes up the first write and keeps it running past the kill: it finishes requests whose
      // client went away. The other turns are queued behind it.
      await letta.faults.set({ kind: 'hold', count: 1, match: { method: 'POST', path: /\/messages$/ } });
      const child = spawn(process.execPath, ['src/cli/chat.ts', '--script', script, '--identity', 'judy'], {
        cwd: projectRoot,
        env: cleanEnv(env),
        stdio: 'ignore',
      });
      for (let i = 0; i < 400 && !((await journaled()) && letta.faults.held() === 1); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await journaled()).toBe(true);
      expect(letta.faults.held()).toBe(1);
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      // A dead worker's turns in Redis go to another once they have sat idle long enough.
      if (redis) await new Promise((r) => setTimeout(r, CLAIM_IDLE_MS + 200));

      const afterKill = letta.requests.length;
      const otidOf = (r: LettaRequestLogEntry) =>
        (r.body as { messages?: { otid?: string }[] } | undefined)?.messages?.[0]?.otid;
      const heldOtid = letta.requests.filter(isWrite).map(otidOf).at(-1);
      expect(heldOtid).toBeDefined();
      const next = await scratch(['Hello again.']);
      const replay = chat(['--script', next.script, '--identity', 'judy'], {
        ...env,
        LETTA_SHUTDOWN_FLUSH_MS: '15000',
      });
      // The held write goes on until the new process has looked at its batch once: a run check, or
      // (what must not happen) the batch sent again while the first send still runs.
      const resent = () => letta.requests.slice(afterKill).filter((r) => isWrite(r) && otidOf(r) === heldOtid);
      await until(
        () => resent().length > 0 || letta.requests.slice(afterKill).some((r) => r.path === '/v1/runs/'),
        30_000,
        'the new process to look at the agent',
      );
      letta.faults.release();
      const r = await replay;
      expect(r.code).toBe(0);
      expect(resent()).toEqual([]);
      const agentId = letta.store.agents().find((a) => a.tags.includes('lk-caller:judy'))!.id;
      const texts = userTexts(letta, agentId);
      const said = [...lines, 'Hello again.'].map((l) => `Caller: ${l}`);
      expect(occurrences(texts, said)).toEqual([1, 1, 1, 1]);
      // What the killed process left goes to Letta before what the new one says.
      expect(isSorted(positions(texts, said))).toBe(true);
    },
  );
});
