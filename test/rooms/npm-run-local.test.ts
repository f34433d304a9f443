/**
 * `npm run local` as a person runs it: one command, one URL. It must print the URL only once the
 * worker can take a call (a caller who joins at once through the page's token endpoint is greeted
 * and answered), and Ctrl-C (SIGINT to its process group, as a terminal sends it) must stop every
 * process it started and leave none of its ports in use.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Caller } from '../../bench/harness/room-caller.ts';
import { recording } from '../../bench/harness/room-stage.ts';
import { projectRoot } from '../helpers/run.ts';

let proc: ChildProcess | undefined;
let caller: Caller | undefined;
afterEach(async () => {
  await caller?.leave();
  caller = undefined;
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

// Its fixed ports (7880-7882, 8081, 3000, 9464) are free only in the tier's own namespace.
describe.skipIf(process.env.ROOMS_NETWORK === 'host')('npm run local (own network namespace only)', () => {
  it('prints one URL once a call can be taken; the caller is answered; Ctrl-C leaves nothing running', async () => {
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
        LOCAL_TRANSCRIPTS: recording('hello.wav').transcript,
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

    // A caller who joins the moment the URL is printed is dispatched the worker and answered.
    const res = await fetch(`${url}api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ participant_identity: 'alice' }),
    });
    expect(res.status).toBe(201);
    const { server_url, participant_token } = (await res.json()) as { server_url: string; participant_token: string };
    caller = new Caller('alice');
    await caller.join(server_url, participant_token);
    await caller.heardSpeech(0, 60_000);
    const asked = await caller.say(recording('hello.wav').samples);
    await caller.speechAfter(asked.endedAt, 60_000);
    await caller.leave();
    caller = undefined;

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
});
