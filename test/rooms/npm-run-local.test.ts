/**
 * `npm run local` as a person runs it: one command, one URL, opened in Chromium whose fake
 * microphone speaks three utterances, one after another. The URL must be printed only once the
 * worker can take a call (the page joins at once and is greeted), each utterance must be answered
 * on the page, and Ctrl-C (SIGINT to its process group, as a terminal sends it) must stop every
 * process it started and leave none of its ports in use.
 *
 * Needs /usr/bin/chromium (`.ci/run` installs it); without it the test skips.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { recording } from '../../bench/harness/room-stage.ts';
import { concatSamples, silence } from '../../bench/harness/speech.ts';
import { chromiumPath, launchWithMicrophone } from '../helpers/chromium.ts';
import { projectRoot } from '../helpers/run.ts';

let proc: ChildProcess | undefined;
let browser: Browser | undefined;
let dir: string | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
  const pid = proc?.pid;
  proc = undefined;
  if (!pid || !groupAlive(pid)) return;
  // As Ctrl-C: the launcher stops the process groups of its own children; SIGKILL is the backstop.
  process.kill(-pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const tcpOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const rate = 16_000;
const utterances = ['hello.wav', 'weather-paris.wav', 'name-alice.wav'].map(recording);

// Its fixed ports (7880-7882, 8081, 3000, 9464) are free only in the tier's own namespace.
describe.skipIf(process.env.ROOMS_NETWORK === 'host' || !existsSync(chromiumPath))(
  'npm run local (own network namespace only)',
  () => {
    it('prints one URL once a call can be taken; Chromium is answered three times; Ctrl-C leaves nothing running', async () => {
      const out: string[] = [];
      const child = spawn('npm', ['run', '--silent', 'local'], {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          ...(process.env.LIVEKIT_SERVER_BIN ? { LIVEKIT_SERVER_BIN: process.env.LIVEKIT_SERVER_BIN } : {}),
          // A key of `sim` counts as none: every service is a stand-in, whatever a developer's .env says.
          OPENAI_API_KEY: 'sim',
          DEEPGRAM_API_KEY: 'sim',
          ELEVEN_API_KEY: 'sim',
          LETTA_API_KEY: 'sim',
          LETTA_BASE_URL: '',
          LOCAL_TRANSCRIPTS: utterances.map((u) => u.transcript).join('|'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      proc = child;
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
      );
      const keep = (d: Buffer) => out.push(...d.toString().split('\n'));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);

      const deadline = Date.now() + 170_000;
      let url: string | undefined;
      while (!url) {
        url = out.map((l) => /^Open (http:\/\/\S+) /.exec(l)?.[1]).find(Boolean);
        if (child.exitCode !== null) throw new Error(`npm run local exited:\n${out.join('\n')}`);
        if (Date.now() > deadline) throw new Error(`no URL:\n${out.join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(url).toBe('http://127.0.0.1:3000/');
      expect(out.filter((l) => l.startsWith('Open '))).toHaveLength(1);
      for (const part of ['OpenAI', 'Deepgram', 'ElevenLabs', 'Letta']) {
        expect(out.some((l) => l.trim().startsWith(`${part}`) && l.includes('stand-in from sim/'))).toBe(true);
      }
      expect(out.some((l) => l.includes('speech recognition is SIMULATED'))).toBe(true);
      expect(out.some((l) => /WebRTC media on 10\.77\.0\.[12] /.test(l))).toBe(true);

      // Each part answers: the page, the worker's health, the server.
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch('http://127.0.0.1:8081/')).status).toBe(200);
      expect((await fetch('http://127.0.0.1:7880/')).status).toBe(200);

      // The page, joined the moment the URL is printed: greeted, then each utterance answered. The
      // microphone plays from when capture opens: silence for the greeting, then the three utterances,
      // each followed by time for its reply (about 5 s of speech) to be played out.
      const gap = silence(14_000, rate);
      const mic = concatSamples(silence(8000, rate), ...utterances.flatMap((u) => [u.samples, gap]));
      dir = await mkdtemp(join(tmpdir(), 'npm-run-local-'));
      browser = await launchWithMicrophone(join(dir, 'mic.wav'), mic);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.locator('#simulated-lines li').nth(2).waitFor({ timeout: 10_000 });
      await page.click('#join-button');
      await page.waitForSelector('#agent-level[data-heard="true"]', { timeout: 60_000 });
      for (const u of utterances) {
        const reply = `You said: ${u.transcript.replace(/[.!?]+$/, '')}`;
        await page.locator('#transcript li.agent:not(.interim)', { hasText: reply }).waitFor({ timeout: 60_000 });
      }
      // Three replies besides the greeting, each to its own utterance, none cut off.
      expect(await page.locator('#transcript li.agent:not(.interim)').count()).toBe(4);
      expect(await page.locator('#transcript li.agent[data-interrupted]').count()).toBe(0);
      expect(await page.isHidden('#problem')).toBe(true);
      expect(errors).toEqual([]);
      await browser.close();
      browser = undefined;

      // Ctrl-C: SIGINT to the foreground process group.
      process.kill(-child.pid!, 'SIGINT');
      const code = await exited;
      expect(out.join('\n')).toContain('stopped: every process it started has exited, and none of its ports is in use');
      // npm ends by the signal it was sent once its script has exited; the launcher itself exits 0.
      expect(['code 0', 'SIGINT']).toContain(code);
      for (const port of [7880, 7881, 8081, 3000, 9464]) expect(await tcpOpen(port), `port ${port}`).toBe(false);
      expect(groupAlive(child.pid!)).toBe(false);
      const noLeft = out.join('\n');
      expect(noLeft).not.toMatch(/still in use/);
    });
  },
);
