/**
 * Scenario `load`: many calls in one worker process, against the stand-ins. At each level N:
 *
 * - text: N calls at once, each a few turns through the hybrid llm node (memory reads and
 *   background writes on, one memory service for the process as in the worker). TTFT overhead =
 *   the node's TTFT minus the stand-in's own (request received → first token sent), for the same
 *   request: what the worker adds, including waiting for a busy event loop.
 * - audio: N full spoken calls at once (VAD, both plugins, the llm node, TTS, playback), e2e as
 *   in the voice scenario. Audio stops at the first level that breaks: heavier levels would only
 *   break harder and take longer.
 *
 * A level holds when no turn fails, e2e p95 stays within the design's 3 s bound and the TTFT
 * overhead p95 within 250 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { llm } from '@livekit/agents';
import { defaultSpeechSettings } from '../../src/voice/speech-settings.ts';
import type { SpeechResources } from '../voice-settings.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import { defaultInstructions } from '../../src/voice/prompt.ts';
import { speechManifest } from '../harness/speech.ts';
import type { Backend, OpenAIEndpoint } from '../backend.ts';
import { hybridTextTurn, openHybrid, openMemoryHost } from '../hybrid.ts';
import { errorText } from '../measure.ts';
import type { Progress } from '../progress.ts';
import { promptAt } from '../prompts.ts';
import type { LoadLevelResult, LoadScenarioResult } from '../results.ts';
import { summarize } from '../stats.ts';
import { pickFixtures, runVoiceCall } from '../voice-call.ts';

export interface LoadScenarioOptions {
  levels: readonly number[];
  textTurns: number;
  audioTurns: number;
  /** Audio runs at levels up to this one (and stops at the first level that breaks). */
  maxAudioLevel: number;
  criteria: { e2eP95MaxMs: number; overheadP95MaxMs: number };
  /** Spoken calls use the worker's default speech settings, loaded from here. */
  resources: SpeechResources;
  logger: Logger;
}

export const defaultLoadScenarioOptions = {
  levels: [1, 5, 10, 20],
  textTurns: 3,
  audioTurns: 2,
  maxAudioLevel: 20,
  criteria: { e2eP95MaxMs: 3000, overheadP95MaxMs: 250 },
} as const;

const mb = (bytes: number) => bytes / 2 ** 20;

/** Peak resident and heap memory while a level runs. */
function sampleMemory(): { stop(): { rss: number; heap: number } } {
  let rss = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 200);
  return {
    stop() {
      clearInterval(timer);
      return { rss, heap };
    },
  };
}

/** The stand-in's own TTFT for the request whose newest user message is `text`. */
function serverTtft(openai: OpenAIEndpoint, text: string): number | null {
  const entry = openai.standIn?.requests.find((r) => {
    const body = r.body as { messages?: { role: string; content: unknown }[] } | undefined;
    const last = body?.messages?.findLast((m) => m.role === 'user');
    return last?.content === text;
  });
  if (!entry || entry.firstDeltaAt === null) return null;
  return entry.firstDeltaAt - entry.at;
}

async function textPhase(
  backend: Backend,
  n: number,
  level: number,
  o: LoadScenarioOptions,
  shared: { openai: OpenAIEndpoint; host: ReturnType<typeof openMemoryHost> },
  progress: Progress,
) {
  const ttfts: number[] = [];
  const overheads: number[] = [];
  let errors = 0;
  let turns = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, s) => {
      try {
        const h = await openHybrid({
          openai: shared.openai,
          host: shared.host,
          identity: `load-${level}-text-${s}`,
          logger: o.logger,
          config: backend.config,
        });
        const ctx = llm.ChatContext.empty();
        ctx.addMessage({ role: 'system', content: defaultInstructions });
        try {
          for (let t = 0; t < o.textTurns; t++) {
            // Unique text, so the stand-in's record of this very request can be found.
            const prompt = `${promptAt(s + t)} (call ${s + 1}, turn ${t + 1})`;
            const m = await hybridTextTurn(h, ctx, prompt);
            turns++;
            progress.tick();
            const server = serverTtft(shared.openai, prompt);
            if (m.error || m.ttftMs === null) errors++;
            else {
              ttfts.push(m.ttftMs);
              if (server !== null) overheads.push(m.ttftMs - server);
            }
            await sleep(300);
          }
        } finally {
          await h.close();
        }
      } catch {
        errors += o.textTurns;
      }
    }),
  );
  return { turns, errors, ttft: summarize(ttfts), overhead: summarize(overheads) };
}

async function audioPhase(
  backend: Backend,
  n: number,
  level: number,
  o: LoadScenarioOptions,
  shared: { openai: OpenAIEndpoint; host: ReturnType<typeof openMemoryHost> },
  journalDir: string,
  progress: Progress,
) {
  const fixtures = pickFixtures(speechManifest(), o.audioTurns);
  const speech = defaultSpeechSettings;
  const vad = await o.resources.vad(speech);
  const eotExecutor = o.resources.eotExecutor(speech);
  const eleven = await backend.elevenlabs(backend.seed);
  const e2e: number[] = [];
  let errors = 0;
  let turns = 0;
  try {
    await Promise.all(
      Array.from({ length: n }, async (_, s) => {
        const r = await runVoiceCall({
          design: 'hybrid',
          backend,
          vad,
          speech,
          ...(eotExecutor ? { eotExecutor } : {}),
          fixtures,
          seed: backend.seed + s,
          identity: `load-${level}-audio-${s}`,
          logger: o.logger,
          journalDir,
          shared: { host: shared.host, openai: shared.openai, elevenlabs: eleven },
          // Calls do not all start speaking in the same 20 ms frame.
          startDelayMs: 500 + ((s * 137) % 1000),
          turnTimeoutMs: 20_000,
          onTurn: () => progress.tick(),
        });
        turns += r.turns.length;
        for (const t of r.turns) {
          if (t.error || t.e2eMs === null) errors++;
          else e2e.push(t.e2eMs);
        }
        if (r.error) {
          errors += fixtures.length - r.turns.length;
          progress.tick(fixtures.length - r.turns.length);
        }
      }),
    );
  } catch (err) {
    o.logger.warn({ err: errorText(err) }, 'load: audio phase failed');
    errors++;
  } finally {
    await eleven.close();
  }
  return { ran: true, turns, errors, e2e: summarize(e2e) };
}

export async function runLoadScenario(
  backend: Backend,
  o: LoadScenarioOptions,
  progress: Progress,
): Promise<LoadScenarioResult> {
  const levels: LoadLevelResult[] = [];
  let audioStopped: string | null = null;
  const notes: string[] = [
    `each level: N text calls × ${o.textTurns} turns through the llm node, then N spoken calls × ${o.audioTurns} turn${o.audioTurns === 1 ? '' : 's'} (VAD, STT, llm node, TTS, playback), all in this one process`,
  ];
  progress.plan(o.levels.reduce((sum, n) => sum + n * o.textTurns + (n <= o.maxAudioLevel ? n * o.audioTurns : 0), 0));
  for (const n of o.levels) {
    const journalDir = mkdtempSync(join(tmpdir(), `bench-load-${n}-`));
    const openai = await backend.openai(backend.seed);
    const letta = await backend.letta(backend.seed + 11);
    const host = openMemoryHost({ config: backend.config, letta, journalDir, logger: o.logger });
    const before = process.memoryUsage();
    const sampler = sampleMemory();
    try {
      progress.phase(`load: ${n} text call${n === 1 ? '' : 's'} at once`);
      const text = await textPhase(backend, n, n, o, { openai, host }, progress);
      let audio: LoadLevelResult['audio'];
      if (audioStopped !== null || n > o.maxAudioLevel) {
        const reason = audioStopped ?? `audio runs up to ${o.maxAudioLevel} calls`;
        audio = { ran: false, reason, turns: 0, errors: 0, e2e: null };
        if (n <= o.maxAudioLevel) progress.tick(n * o.audioTurns);
      } else {
        progress.phase(`load: ${n} spoken call${n === 1 ? '' : 's'} at once`);
        audio = await audioPhase(backend, n, n, o, { openai, host }, journalDir, progress);
      }
      const peak = sampler.stop();
      const problems: string[] = [];
      if (text.errors + audio.errors > 0) problems.push(`${text.errors + audio.errors} turns failed`);
      if (audio.e2e && audio.e2e.p95 > o.criteria.e2eP95MaxMs)
        problems.push(`e2e p95 ${Math.round(audio.e2e.p95)} ms > ${o.criteria.e2eP95MaxMs} ms`);
      if (text.overhead && text.overhead.p95 > o.criteria.overheadP95MaxMs) {
        problems.push(`TTFT overhead p95 ${Math.round(text.overhead.p95)} ms > ${o.criteria.overheadP95MaxMs} ms`);
      }
      const holds = problems.length === 0;
      if (!holds && audio.ran) audioStopped = `not run: ${n} calls already broke`;
      levels.push({
        sessions: n,
        text,
        audio,
        rssPerSessionMb: mb(Math.max(0, peak.rss - before.rss)) / n,
        heapPerSessionMb: mb(Math.max(0, peak.heap - before.heapUsed)) / n,
        holds,
        problems,
      });
    } finally {
      sampler.stop();
      await host.close(0);
      await letta.close();
      await openai.close();
      rmSync(journalDir, { recursive: true, force: true });
    }
  }
  const broke = levels.find((l) => !l.holds);
  return { levels, breaksAt: broke?.sessions ?? null, criteria: { ...o.criteria }, notes };
}
