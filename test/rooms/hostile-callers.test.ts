/**
 * Callers who misbehave, on purpose or not, each in a room of its own while a well-behaved caller
 * talks in another room of the same worker: noise for a long time, silence forever, a second
 * microphone track, a flood of typed messages (100 a second, and one of 1 MB), malformed data on
 * the project's topics. Each time the agent stays up, the other room's e2e stays what it was
 * before (measured in the same run), the worker's CPU and memory stay bounded, the flood is cut
 * with one log line, and nothing malformed reaches Letta.
 *
 * The noise lasts ROOMS_NOISE_SECONDS (default 30, to keep the tier short; the 5 minutes
 * is `ROOMS_NOISE_SECONDS=300 npm run test:rooms -- test/rooms/hostile-callers.test.ts`).
 */
import { AudioFrame, AudioSource, LocalAudioTrack, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchProcesses } from '../../bench/harness/process-usage.ts';
import type { Caller } from '../../bench/harness/room-caller.ts';
import { type Stage, lettaAgentOf, recording, startStage } from '../../bench/harness/room-stage.ts';
import { speechFixture } from '../../bench/harness/speech.ts';
import { memoryTopic } from '../../src/telemetry/memory-publisher.ts';
import { turnTopic } from '../../src/telemetry/turn-publisher.ts';
import { until, userTexts } from '../memory/helpers.ts';

const noiseSeconds = Number(process.env.ROOMS_NOISE_SECONDS ?? 30);
const hello = recording('hello.wav');
const helloEndMs = speechFixture('hello.wav').speechEndMs;

let stage: Stage;
let bystander: Caller;
let baseline: number[] = [];

/** White noise at about -12 dBFS, from a fixed seed. */
function noise(seconds: number): Int16Array {
  const out = new Int16Array(seconds * 16000);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (x % 16000) - 8000;
  }
  return out;
}

/** The bystander's spoken turns, at least `n`, and more while `goOn` says so: e2e of each (speech end → first audible frame of the reply). */
async function bystanderTurns(n: number, goOn: () => boolean = () => false): Promise<number[]> {
  const e2e: number[] = [];
  for (let i = 0; i < n || goOn(); i++) {
    const spoken = await bystander.say(hello.samples);
    const end = spoken.timeAt(helloEndMs);
    const reply = await bystander.speechAfter(end, 30_000);
    e2e.push(reply.startedAt - end);
    await bystander.heardSpeech(bystander.heard.indexOf(reply), 60_000);
    await new Promise((r) => setTimeout(r, 400));
  }
  return e2e;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1] ?? NaN;

/**
 * Runs `hostile` while the bystander speaks (`turns` times, or for as long as `hostile` lasts with
 * `throughout`), with the worker's CPU and memory read meanwhile: the bystander is answered every
 * time and not much slower than before; the worker stays bounded.
 */
async function besideBystander(
  what: string,
  hostile: () => Promise<void>,
  turns = 2,
  throughout = false,
): Promise<void> {
  const usage = watchProcesses(({ pgrp }) => (pgrp === stage.worker.processGroup ? 'worker' : null));
  let over = false;
  const running = hostile().finally(() => (over = true));
  const [during] = await Promise.all([bystanderTurns(turns, () => throughout && !over), running]);
  const u = usage.stop();
  const w = u.byKind.worker;
  const cores = (w?.cpuSeconds ?? 0) / (u.wallMs / 1000);
  console.log(
    `${what}: bystander e2e before ${baseline.map(Math.round).join(', ')} ms, during ${during.length} turns median ${Math.round(median(during))} p95 ${Math.round(p95(during))} (${during.map(Math.round).join(', ')}) ms; worker ${cores.toFixed(2)} cores, peak RSS ${Math.round(w?.peakTotalRssMb ?? 0)} MB over ${Math.round(u.wallMs / 1000)} s`,
  );
  // Generous: two cores are shared with the server, the callers and other work.
  expect(median(during)).toBeLessThan(median(baseline) + 1500);
  expect(cores).toBeLessThan(1.8);
  expect(w?.peakTotalRssMb ?? 0).toBeLessThan(3000);
}

/** A caller who has joined and heard the greeting. */
async function greeted(room: string, identity: string): Promise<Caller> {
  const c = await stage.call(room, identity);
  await c.heardSpeech(0, 60_000);
  return c;
}

function lettaTextsOf(identity: string): string[] {
  const id = lettaAgentOf(stage, identity);
  return id ? userTexts(stage.letta, id) : [];
}

beforeAll(async () => {
  stage = await startStage();
  // Every utterance anyone says is this recording; noise gets an empty final (see the noise case).
  stage.deepgram.setTranscripts(Array.from({ length: 200 }, () => hello.transcript));
  bystander = await greeted('bystander', 'bystander');
  baseline = await bystanderTurns(3);
});
afterAll(() => stage?.close());

describe('hostile or broken callers, beside a caller who behaves', () => {
  it(
    `noise for ${noiseSeconds} s: no turn comes of it, the agent stays up`,
    async () => {
      const c = await greeted('noise', 'noisy');
      // Deepgram gives noise an empty transcript: the noise's one long utterance gets the empty entry.
      const before = stage.deepgram.utterances.length;
      stage.deepgram.setTranscripts(['']);
      const done = c.say(noise(noiseSeconds));
      await until(() => stage.deepgram.utterances.length > before, 20_000, 'the noise heard as speech');
      stage.deepgram.setTranscripts(Array.from({ length: 200 }, () => hello.transcript));
      // The bystander talks for as long as the noise lasts.
      await besideBystander('noise', async () => void (await done), 2, true);
      // Nothing was said back to the noise: the noisy caller has heard the greeting alone.
      expect(c.heard).toHaveLength(1);
      // The noisy room's agent is still there: it answers a real question once the noise stops. A
      // pause first, as a caller makes: the stand-in's detector would run the two into one utterance.
      await new Promise((r) => setTimeout(r, 1500));
      const asked = await c.say(hello.samples);
      await c.speechAfter(asked.timeAt(helloEndMs), 30_000);
      await c.leave();
      // In Letta, that question once and nothing of the noise.
      const callerLines = () => lettaTextsOf('noisy').filter((t) => t.includes('Caller:'));
      await until(() => callerLines().length > 0, 30_000, 'the noisy caller’s question in Letta');
      expect(callerLines()).toHaveLength(1);
    },
    (noiseSeconds + 150) * 1000,
  );

  it('silence forever: the agent waits, costs little, and keeps no turn', async () => {
    const c = await greeted('silence', 'silent');
    await besideBystander('silence', () => new Promise((r) => setTimeout(r, 15_000)));
    expect(c.heard).toHaveLength(1);
    await c.leave();
    expect(lettaTextsOf('silent').filter((t) => t.includes('Caller:'))).toEqual([]);
  });

  it('a second microphone track: the agent follows the newest, as on a device switch, and falls back', async () => {
    const c = await greeted('two-tracks', 'two-tracks');
    const source = new AudioSource(16000, 1);
    const track = LocalAudioTrack.createAudioTrack('second-microphone', source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    const second = await c.room.localParticipant!.publishTrack(track, options);
    const roman = recording('roman-empire.wav');
    let heardFromSecond = 0;
    await besideBystander('second track', async () => {
      // Both tracks carry sound: speech on the second, the first open with its silence.
      const startedAt = Date.now();
      for (let i = 0; i + 160 <= roman.samples.length; i += 160) {
        await source.captureFrame(new AudioFrame(roman.samples.slice(i, i + 160), 16000, 1, 160));
      }
      const reply = await c.speechAfter(startedAt, 30_000);
      await c.heardSpeech(c.heard.indexOf(reply), 60_000);
      heardFromSecond = c.transcriptions.filter((t) => t.trackId === second.sid && t.final).length;
    });
    expect(heardFromSecond).toBeGreaterThan(0);
    // Unpublished: RoomIO goes back to the first track. Words of their own (the bystander is quiet
    // now), so what is answered is known to come from the first track.
    await c.room.localParticipant!.unpublishTrack(second.sid!);
    await new Promise((r) => setTimeout(r, 1000));
    const back = 'Back on my first microphone.';
    stage.deepgram.setTranscripts([back, ...Array.from({ length: 200 }, () => hello.transcript)]);
    const asked = await c.say(hello.samples);
    await c.speechAfter(asked.timeAt(helloEndMs), 30_000);
    // Not checked by track: agents 1.9 keeps labelling the caller's transcripts with the unpublished
    // second track's id (lk.transcribed_track_id) after it falls back to the first.
    const segments = c.transcriptions.filter((t) => t.speaker !== 'agent' && t.final);
    console.log(`second track ${second.sid}: ${JSON.stringify(segments)}`);
    await c.leave();
    await source.close();
    // Both turns, once each.
    await until(() => lettaTextsOf('two-tracks').some((t) => t.includes(`Caller: ${back}`)), 60_000, 'the turn');
    const all = lettaTextsOf('two-tracks').join('\n');
    expect([all.split(`Caller: ${hello.transcript}`).length - 1, all.split(`Caller: ${back}`).length - 1]).toEqual([
      1, 1,
    ]);
  });

  it('a flood of typed messages and one of 1 MB: cut to the rate with one log line, refused, kept out of Letta', async () => {
    const c = await greeted('flood', 'flooder');
    const mark = stage.worker.log.length;
    await besideBystander('lk.chat flood', async () => {
      // 100 a second for 2 s.
      for (let batch = 0; batch < 20; batch++) {
        const t = Date.now();
        await Promise.all(Array.from({ length: 10 }, (_, i) => c.chat(`flood message ${batch * 10 + i}`)));
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
      }
      await new Promise((r) => setTimeout(r, 3000));
      await c.chat(`huge ${'x'.repeat(1024 * 1024)}`);
    });
    await c.until(
      () => (c.transcriptions.some((t) => t.speaker === 'agent' && t.text.includes('longer than')) ? true : undefined),
      30_000,
      'the notice that the 1 MB message was refused',
    );
    const rateLines = stage.worker.log.slice(mark).filter((l) => l.includes('typed_messages_rate_limited'));
    expect(rateLines).toHaveLength(1);
    await until(
      () => lettaTextsOf('flooder').some((t) => t.includes('flood message')),
      60_000,
      'typed messages in Letta',
    );
    // Let the last answered ones land, then count what got through.
    await new Promise((r) => setTimeout(r, 3000));
    const texts = lettaTextsOf('flooder');
    const flood = texts.filter((t) => t.includes('flood message'));
    console.log(`flood: ${flood.length} of 200 typed messages reached Letta`);
    // The burst (5) and one a second over the few seconds the flood took, with room for slow sends.
    expect(flood.length).toBeLessThanOrEqual(15);
    expect(texts.some((t) => t.includes('xxxxxxxxxx'))).toBe(false);
    // The agent still answers the voice.
    const asked = await c.say(hello.samples);
    await c.speechAfter(asked.timeAt(helloEndMs), 30_000);
    await c.leave();
  });

  it('malformed data on the project’s topics: ignored or refused, the call goes on, nothing in Letta', async () => {
    const c = await greeted('malformed', 'malformed');
    const me = c.room.localParticipant!;
    const junk = new Uint8Array(4096).map((_, i) => (i * 131 + 7) % 256);
    await besideBystander('malformed data', async () => {
      await me.sendText('\u0000\u0001junk-control', { topic: 'lk.chat' });
      await me.sendText('junk-surrogate \ud800', { topic: 'lk.chat' });
      await me.sendText('{"e2e_ms": "junk-turn"', { topic: turnTopic });
      await me.sendText('junk-memory ]]]', { topic: memoryTopic });
      for (const topic of ['lk.chat', turnTopic, memoryTopic, 'lk.agent.session']) {
        const w = await me.streamBytes({ topic, name: 'junk.bin' });
        await w.write(junk);
        await w.close();
        await me.publishData(junk.slice(0, 1000), { topic, reliable: true });
      }
      await new Promise((r) => setTimeout(r, 3000));
    });
    const asked = await c.say(hello.samples);
    await c.speechAfter(asked.timeAt(helloEndMs), 30_000);
    await c.leave();
    await until(() => lettaTextsOf('malformed').some((t) => t.includes(hello.transcript)), 60_000, 'the spoken turn');
    expect(lettaTextsOf('malformed').filter((t) => /junk|\ufffd/.test(t) || t.includes('\u0000'))).toEqual([]);
  });
});
