/**
 * The join page in a real browser: Debian's Chromium driven by playwright-core, its fake
 * microphone playing a committed recording, against LiveKit's server, the worker and the
 * stand-ins. The page gets its token from `npm run web`'s own server code, joins, hears the
 * agent's greeting, and shows the caller's words and the reply in its transcript, and the turn's
 * latency figures and the caller's memory (a block set in the Letta stand-in, then the turn
 * acknowledged by Letta) as the worker sent them; and a reply the caller speaks over is marked cut off.
 *
 * Needs /usr/bin/chromium (Debian package `chromium`; `.ci/run` installs it). Without it the test
 * skips and says why.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { concatSamples, silence } from '../../bench/harness/speech.ts';
import type { PageSetup } from '../../src/config.ts';
import { createWebServer } from '../../src/web/server.ts';
import { chromiumPath, launchWithMicrophone } from '../helpers/chromium.ts';
import { projectRoot } from '../helpers/run.ts';
import { type Stage, recording, startStage } from '../../bench/harness/room-stage.ts';

/** Where the screenshot goes (git-ignored); README.md and docs/deploy.md show its copy, docs/join-page.png. */
const screenshotPath = join(projectRoot, '.cache', 'join-page.png');
const rate = 16_000;

let stage: Stage | undefined;
let web: Server | undefined;
let browser: Browser | undefined;
let dir: string | undefined;
afterEach(async () => {
  await browser?.close();
  await new Promise((resolve) => (web ? web.close(resolve) : resolve(undefined)));
  web?.closeAllConnections();
  await stage?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  browser = web = stage = dir = undefined;
});

interface Opened {
  page: Page;
  errors: string[];
  log: string[];
}

/** The web server for this stage, and Chromium with `samples` as its microphone, on the page. */
async function openPage(s: Stage, agentName: string, samples: Int16Array, setup?: PageSetup): Promise<Opened> {
  dir = await mkdtemp(join(tmpdir(), 'join-page-'));
  const log: string[] = [];
  web = createWebServer(
    {
      livekitUrl: s.server.url,
      apiKey: s.server.apiKey,
      apiSecret: s.server.apiSecret,
      agentName,
      ...(setup ? { setup } : {}),
    },
    (line) => log.push(line),
  );
  await new Promise<void>((resolve) => web!.listen(0, '127.0.0.1', resolve));
  browser = await launchWithMicrophone(join(dir, 'mic.wav'), samples);
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${(web.address() as AddressInfo).port}/`);
  return { page, errors, log };
}

describe.skipIf(!existsSync(chromiumPath))('the join page in Chromium', () => {
  it('joins with one click, hears the greeting, and shows both sides of a spoken turn', async () => {
    const agentName = 'join-page-agent';
    stage = await startStage({ agentName });
    const hello = recording('hello.wav');
    stage.deepgram.setTranscripts([hello.transcript]);
    // The file plays from the moment capture opens: silence first lets the greeting finish.
    // As npm run local runs it: every service a stand-in, so recognition is simulated.
    const { page, errors, log } = await openPage(
      stage,
      agentName,
      concatSamples(silence(8000, rate), hello.samples, silence(8000, rate)),
      { standIns: ['openai', 'deepgram', 'elevenlabs', 'letta'], simulatedSpeech: [hello.transcript] },
    );
    // A caller the agent already knows: the page's kept identity, and a block in their Letta agent.
    const identity = 'erin';
    stage.letta.store.createAgent({
      name: identity,
      tags: [`lk-caller:${identity}`, 'voice'],
      memory_blocks: [{ label: 'human', value: 'Erin keeps bees on her roof.' }],
    });
    await page.evaluate((id) => localStorage.setItem('joinpage.identity', id), identity);
    await page.reload();
    // Before joining, the caller is told what the stand-in will "hear" in their place.
    await page.locator('#simulated-lines li', { hasText: hello.transcript }).waitFor({ timeout: 10_000 });
    expect(await page.textContent('#simulated')).toContain('Speech recognition is simulated');
    expect(await page.textContent('#stand-ins')).toContain('OpenAI, Deepgram, ElevenLabs, Letta');
    await page.fill('#name', 'Erin Bee');
    await page.click('#join-button');
    // On screen, the caller is their display name, never the identity that keys their memory.
    await page.locator('#status', { hasText: 'Connected as Erin Bee.' }).waitFor({ timeout: 30_000 });
    expect(await page.textContent('#caller-name')).toBe('Erin Bee');
    // The memory panel: the caller's block as plain text, not the prompt's framing or the agent's persona.
    await page.locator('#memory-about', { hasText: 'Erin keeps bees on her roof.' }).waitFor({ timeout: 30_000 });
    expect((await page.textContent('#memory-about'))?.trim()).toBe('Erin keeps bees on her roof.');
    expect(await page.textContent('#memory')).not.toMatch(/<human>|caller_memory|persona/i);

    // The agent's voice at a glance: its bars follow the greeting's level and show its state.
    await page.waitForSelector('#agent-level[data-heard="true"]', { timeout: 60_000 });
    expect(await page.getAttribute('#agent-level', 'data-state')).toMatch(/listening|thinking|speaking/);
    // The caller's line is the stand-in's script, and says so.
    const userLine = page.locator('#transcript li.user.simulated:not(.interim)', { hasText: hello.transcript });
    await userLine.waitFor({ timeout: 60_000 });
    expect(await userLine.textContent()).toMatch(/^Simulated recognition \(not your words\):/);
    const reply = `You said: ${hello.transcript.replace(/[.!?]+$/, '')}`;
    // Final only if the agent's stream says so at its end (lk.transcription_final in its trailer).
    await page.locator('#transcript li.agent:not(.interim)', { hasText: reply }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#transcript li.agent:not(.interim)').count()).toBeGreaterThanOrEqual(2);
    // The spoken turn's figures, sent by the worker on voice-agent.turn: all four measured.
    const row = page.locator('#latency-rows tr[data-complete="true"]').first();
    await row.waitFor({ timeout: 30_000 });
    const cells = await row.locator('td').allTextContents();
    expect(
      cells
        .slice(1)
        .map(Number)
        .every((n) => Number.isInteger(n) && n >= 0),
    ).toBe(true);
    // The chart: the turn's stages stacked in one column, a millisecond axis, the turn's number, a legend.
    expect(await page.locator('#latency-chart g.turn rect').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#latency-chart g.turn line.e2e').count()).toBeGreaterThanOrEqual(1);
    const ticks = await page.locator('#latency-chart text.tick').allTextContents();
    expect(ticks).toContain('ms');
    expect(ticks).toContain('0');
    expect(await page.locator('#latency-legend li').allTextContents()).toEqual([
      'End of turn',
      'LLM first token',
      'TTS first byte',
      'To first audio',
    ]);
    // The spoken turn reaches Letta while the call goes on, and the panel says after how long.
    await page.locator('#memory-turns li[data-state="acked"]').first().waitFor({ timeout: 60_000 });
    expect(await page.textContent('#agent-state')).toMatch(/listening|thinking|speaking/);
    expect(await page.isHidden('#problem')).toBe(true);

    await mkdir(join(projectRoot, '.cache'), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    expect(errors).toEqual([]);
    // One token was issued, and nothing of it or of the secret was logged.
    expect(log.filter((l) => l.includes('/api/token 201'))).toHaveLength(1);
    expect(log.join('\n')).not.toContain(stage.server.apiSecret);
    expect(log.join('\n')).not.toMatch(/eyJ/);
  });

  it('marks a reply the caller spoke over as cut off, in the transcript and the latency table', async () => {
    const agentName = 'join-page-agent';
    // A reply long enough (well over 10 s) that the second utterance lands inside it wherever it starts.
    const longReply = 'Bees dance to tell the hive where flowers are, and how far away. '.repeat(4).trim();
    stage = await startStage({
      agentName,
      respond: (req) => ({ content: req.messages.filter((m) => m.role === 'user').length === 1 ? longReply : 'Sure.' }),
    });
    const hello = recording('hello.wav');
    const roman = recording('roman-empire.wav');
    stage.deepgram.setTranscripts([hello.transcript, roman.transcript]);
    // Greeting, question, 5 s into the long reply (past the framework's 3 s barge-in warm-up), a second question.
    const { page, errors } = await openPage(
      stage,
      agentName,
      concatSamples(silence(8000, rate), hello.samples, silence(5000, rate), roman.samples, silence(8000, rate)),
    );
    await page.click('#join-button');
    await page
      .locator('#transcript li.agent[data-interrupted]', { hasText: 'Bees dance' })
      .waitFor({ timeout: 60_000 });
    await page.locator('#latency-rows td', { hasText: 'cut off' }).first().waitFor({ timeout: 10_000 });
    await page.locator('#transcript li.user:not(.interim)', { hasText: roman.transcript }).waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
  });
});
