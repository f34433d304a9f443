/**
 * One spoken conversation without a room, timed from the caller's side: the committed speech
 * recordings go into a simulated microphone in real time, through real Silero VAD, the real
 * Deepgram and ElevenLabs plugins and an llm node, and out of a simulated speaker.
 *
 * End to end is measured the way a caller experiences it (and the way voice-to-voice latency is
 * measured from a recording of both sides of a call): from where the recording says the caller's
 * speech ends, in wall time, to the first frame of the reply the speaker played. The stage
 * figures are the framework's own; the waterfall adds client-side event times.
 */
import type Letta from '@letta-ai/letta-client';
import { type VAD, type ipc, voice } from '@livekit/agents';
import { type ReadableStream, TransformStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { callerAgentTemplate } from '../src/memory/agent-template.ts';
import { createLettaClient } from '../src/memory/letta-client.ts';
import type { Logger } from '../src/telemetry/logger.ts';
import { noMemory } from '../src/voice/memory-context.ts';
import { bindQuietWindow } from '../src/voice/quiet-window.ts';
import { createReplyLLM } from '../src/voice/services.ts';
import { createVoiceSession } from '../src/voice/session-factory.ts';
import type { SpeechSettings } from '../src/voice/speech-settings.ts';
import {
  type PauseFixture,
  type SpeechFixture,
  pauseFixtureDir,
  readWav,
  scriptOf,
  speechFixtureDir,
} from './harness/speech.ts';
import type { Backend, ElevenLabsEndpoint, LettaEndpoint, OpenAIEndpoint } from './backend.ts';
import { startRoomlessCall } from './harness/roomless-call.ts';
import { type Hybrid, type MemoryHost, openHybrid, openMemoryHost } from './hybrid.ts';
import { LettaPathAgent } from './letta-path-agent.ts';
import { errorText } from './measure.ts';
import type { VoiceDesign, VoiceTurnRecord, Waterfall } from './results.ts';
import { nowMs } from '../sim/index.ts';
import { stageRatio } from './stats.ts';

export interface VoiceCallOptions {
  design: VoiceDesign;
  backend: Backend;
  /** Silero, loaded with `speech.vadMinSilenceMs`. */
  vad: VAD;
  speech: SpeechSettings;
  /** Runs the end-of-turn model in this process (there is no job here). */
  eotExecutor?: ipc.InferenceExecutor;
  fixtures: readonly (SpeechFixture | PauseFixture)[];
  /** Seeds this call's own stand-ins (sim). */
  seed: number;
  identity: string;
  logger: Logger;
  /** Where the call's own memory journal goes when it opens its own memory host. */
  journalDir: string;
  /** Shared by several calls (load): the process's memory host and stand-ins. Otherwise the call opens its own. */
  shared?: { host?: MemoryHost; openai?: OpenAIEndpoint; elevenlabs?: ElevenLabsEndpoint; letta?: LettaEndpoint };
  /** Pause before the first utterance, after the session is listening. */
  startDelayMs?: number;
  turnTimeoutMs?: number;
  onTurn?: (t: VoiceTurnRecord) => void;
}

type NodeOutput = NonNullable<Awaited<ReturnType<voice.Agent['llmNode']>>>;
type NodeChunk = NodeOutput extends ReadableStream<infer C> ? C : never;

function textOf(chunk: NodeChunk): string {
  if (typeof chunk === 'string') return chunk;
  if (typeof chunk === 'object' && chunk !== null && 'delta' in chunk) return chunk.delta?.content ?? '';
  return '';
}

interface NodeCall {
  startAt: number;
  firstAt: number | null;
}

/** Times every llm node call of an agent: when it was called and when its first text came out. */
function probeLlmNode(agent: voice.Agent, calls: NodeCall[]): void {
  const original = agent.llmNode.bind(agent);
  agent.llmNode = async (chatCtx, toolCtx, modelSettings) => {
    const call: NodeCall = { startAt: nowMs(), firstAt: null };
    calls.push(call);
    const out = await original(chatCtx, toolCtx, modelSettings);
    if (out === null) return out;
    return out.pipeThrough(
      new TransformStream<NodeChunk, NodeChunk>({
        transform(chunk, controller) {
          if (call.firstAt === null && textOf(chunk)) call.firstAt = nowMs();
          controller.enqueue(chunk);
        },
      }),
    );
  };
}

const secondsToMs = (s: number | undefined): number | null => (s === undefined ? null : s * 1000);

export interface VoiceCallResult {
  turns: VoiceTurnRecord[];
  /** Errors outside any turn (setup, close). */
  error?: string;
}

export async function runVoiceCall(o: VoiceCallOptions): Promise<VoiceCallResult> {
  const { backend } = o;
  const closers: (() => Promise<void>)[] = [];
  const turns: VoiceTurnRecord[] = [];
  const turnTimeoutMs = o.turnTimeoutMs ?? 30_000;
  try {
    const deepgram = await backend.deepgram(o.seed, o.fixtures.map(scriptOf));
    closers.push(deepgram.close);
    const eleven = o.shared?.elevenlabs ?? (await backend.elevenlabs(o.seed));
    if (!o.shared?.elevenlabs) closers.push(eleven.close);
    const openai = o.shared?.openai ?? (await backend.openai(o.seed));
    if (!o.shared?.openai) closers.push(openai.close);
    let letta: LettaEndpoint | null = o.shared?.letta ?? null;
    const needsLetta = o.design === 'letta' || !o.shared?.host;
    if (!letta && needsLetta && backend.missing.letta === null) {
      letta = await backend.letta(o.seed + 7);
      closers.push(letta.close);
    }

    let hybrid: Hybrid | null = null;
    let host: MemoryHost | null = null;
    let lettaClient: Letta | null = null;
    let lettaAgentId: string | null = null;
    if (o.design === 'hybrid') {
      host =
        o.shared?.host ?? openMemoryHost({ config: backend.config, letta, journalDir: o.journalDir, logger: o.logger });
      if (!o.shared?.host) {
        const h = host;
        closers.unshift(() => h.close(0));
      }
      hybrid = await openHybrid({ openai, host, identity: o.identity, logger: o.logger, config: backend.config });
      const h = hybrid;
      closers.unshift(() => h.close());
    } else {
      if (!letta) throw new Error(`Letta is needed for the letta design: ${backend.missing.letta ?? ''}`);
      lettaClient = createLettaClient(
        { baseURL: letta.baseURL, ...(letta.apiKey !== undefined ? { apiKey: letta.apiKey } : {}) },
        120_000,
      );
      lettaAgentId = (await lettaClient.agents.create(callerAgentTemplate(o.identity, letta.agentModel))).id;
      if (backend.mode === 'live') {
        const c = lettaClient;
        const id = lettaAgentId;
        closers.push(async () => void (await c.agents.delete(id).catch(() => undefined)));
      }
    }

    const model =
      hybrid?.llm ?? createReplyLLM({ apiKey: openai.apiKey, baseURL: openai.baseURL, model: openai.model });
    const built = createVoiceSession({
      llm: model,
      vad: o.vad,
      speech: o.speech,
      ...(o.eotExecutor ? { eotExecutor: o.eotExecutor } : {}),
      memory: hybrid?.memory ?? noMemory,
      logger: o.logger,
      memoryMaxChars: backend.config.letta.memoryMaxChars,
      greeting: null,
      deepgram: { apiKey: deepgram.apiKey, baseURL: deepgram.baseURL },
      elevenlabs: { apiKey: eleven.apiKey, baseURL: eleven.baseURL, voiceId: eleven.voiceId },
    });
    const session = built.session;
    let failure: ((err: unknown) => void) | null = null;
    const agent: voice.Agent =
      o.design === 'hybrid'
        ? built.agent
        : new LettaPathAgent({
            client: lettaClient as Letta,
            agentId: lettaAgentId as string,
            llm: model,
            onError: (err) => failure?.(err),
          });
    const nodeCalls: NodeCall[] = [];
    probeLlmNode(agent, nodeCalls);

    const finals: number[] = [];
    const users: { at: number; endOfTurnAt: number | null }[] = [];
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
      if (ev.isFinal) finals.push(nowMs());
    });
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev) => {
      const item = ev.item;
      if (item.type !== 'message' || item.role !== 'user') return;
      const stopped = secondsToMs(item.metrics.stoppedSpeakingAt);
      const eot = secondsToMs(item.metrics.endOfTurnDelay);
      users.push({ at: nowMs(), endOfTurnAt: stopped !== null && eot !== null ? stopped + eot : null });
    });
    if (hybrid?.caller && host) {
      const stopRecording = hybrid.caller.record(session);
      const unbind = bindQuietWindow(session, host.window);
      closers.unshift(async () => {
        unbind();
        stopRecording();
      });
    }

    const call = await startRoomlessCall({ session, agent, micSampleRate: 16000 });
    /** User turns committed while the clip played and until its reply, and whether audio came too early. */
    const cutoffsOf = (clipAt: number, untilAt: number, speechEndAt: number, pause?: { startMs: number }) => ({
      userTurns: users.filter((u) => u.at > clipAt && u.at <= untilAt).length,
      answeredEarly: call.speaker.segments.some(
        (sg) => sg.startedAt >= clipAt + (pause?.startMs ?? 0) && sg.startedAt < speechEndAt,
      ),
    });
    closers.unshift(() => call.close());
    await sleep(o.startDelayMs ?? 500);

    for (const [index, fixture] of o.fixtures.entries()) {
      const pause = 'pause' in fixture ? fixture.pause : undefined;
      const { samples } = readWav(`${pause ? pauseFixtureDir : speechFixtureDir}${fixture.file}`);
      const failed = new Promise<never>((_, reject) => {
        failure = (err) => reject(err instanceof Error ? err : new Error(String(err)));
      });
      failed.catch(() => undefined);
      const spoken = await call.mic.say(samples);
      const speechEndAt = spoken.startedAt + fixture.speechEndMs;
      const base = {
        index,
        fixture: fixture.file,
        transcript: fixture.transcript,
        speechEndAt,
        ...(pause ? { pause } : {}),
      };
      // The reply is the first assistant turn after a user turn committed past the caller's last
      // word; a turn committed earlier (at a pause) is a cut-off, and its reply is not this one.
      const committedAfterEnd = (at: number) => users.some((u) => u.at > speechEndAt && u.at < at);
      let rec: VoiceTurnRecord;
      try {
        const t = await Promise.race([call.turnWhere((turn) => committedAfterEnd(turn.at), turnTimeoutMs), failed]);
        const seg = call.speaker.segments.find((sg) => sg.startedAt > speechEndAt);
        const firstAudioAt = seg?.startedAt ?? null;
        const node = nodeCalls
          .filter((c) => c.startAt > spoken.startedAt && (firstAudioAt === null || c.startAt < firstAudioAt))
          .at(-1);
        const final = finals
          .filter((at) => at > spoken.startedAt && (firstAudioAt === null || at < firstAudioAt))
          .at(-1);
        const user = users.filter((u) => u.at > speechEndAt && u.at < t.at).at(0);
        const rel = (at: number | null | undefined) => (typeof at === 'number' ? at - speechEndAt : null);
        const waterfall: Waterfall = {
          finalTranscriptMs: rel(final),
          endOfTurnMs: rel(user?.endOfTurnAt),
          llmStartMs: rel(node?.startAt),
          llmFirstTokenMs: rel(node?.firstAt),
          ttsFirstTextMs: rel(seg?.ttsStartedAt),
          ttsTtfbMs: t.ttsTtfbMs ?? null,
          firstAudioMs: rel(firstAudioAt),
          firstAudibleMs: rel(seg?.audibleAt),
          firstAudibleFrameMs: rel(seg?.audibleFrameAt),
        };
        const e2eMs = rel(firstAudioAt);
        rec = {
          ...base,
          heard: t.userText,
          reply: t.assistantText,
          firstAudioAt,
          e2eMs,
          transcriptionDelayMs: t.transcriptionDelayMs ?? null,
          endOfTurnDelayMs: t.endOfTurnDelayMs ?? null,
          llmTtftMs: t.llmTtftMs ?? null,
          ttsTtfbMs: t.ttsTtfbMs ?? null,
          frameworkE2eMs: t.e2eMs ?? null,
          ttsWaitMs:
            waterfall.ttsFirstTextMs !== null && waterfall.llmFirstTokenMs !== null
              ? waterfall.ttsFirstTextMs - waterfall.llmFirstTokenMs
              : null,
          stageRatio: stageRatio(e2eMs, [t.transcriptionDelayMs, t.llmTtftMs, t.ttsTtfbMs]),
          ...cutoffsOf(spoken.startedAt, t.at, speechEndAt, pause),
          waterfall,
        };
      } catch (err) {
        rec = {
          ...base,
          heard: null,
          reply: '',
          firstAudioAt: null,
          e2eMs: null,
          transcriptionDelayMs: null,
          endOfTurnDelayMs: null,
          llmTtftMs: null,
          ttsTtfbMs: null,
          frameworkE2eMs: null,
          ttsWaitMs: null,
          stageRatio: null,
          ...cutoffsOf(spoken.startedAt, nowMs(), speechEndAt, pause),
          waterfall: {
            finalTranscriptMs: null,
            endOfTurnMs: null,
            llmStartMs: null,
            llmFirstTokenMs: null,
            ttsFirstTextMs: null,
            ttsTtfbMs: null,
            firstAudioMs: null,
          },
          error: errorText(err),
        };
      }
      failure = null;
      turns.push(rec);
      o.onTurn?.(rec);
      // A short pause between turns, as a caller takes before speaking again.
      await sleep(400);
    }
    return { turns };
  } catch (err) {
    return { turns, error: errorText(err) };
  } finally {
    for (const c of closers) await c().catch(() => undefined);
  }
}

/** The fixtures a run speaks, in a fixed order, cycling when more turns are asked for. */
export function pickFixtures(all: readonly SpeechFixture[], turns: number): SpeechFixture[] {
  // The long one is for interruption tests: it would add seconds per turn and measure nothing new.
  const usable = all.filter((f) => f.durationMs <= 3000);
  const pool = usable.length > 0 ? usable : [...all];
  return Array.from({ length: turns }, (_, i) => pool[i % pool.length] as SpeechFixture);
}
