/**
 * Scenario `voice`: the whole session without a room, once with Letta in the path (the llm node
 * streams each reply from a Letta agent, step streaming) and with the hybrid design under each
 * speech setting asked for. The Letta call runs beside the hybrid ones; the hybrid calls run one
 * after the other. Each call has its own stand-ins with the same seed, so speech-to-text and
 * text-to-speech draws are the same and the difference is the reply path or the setting.
 *
 * Hybrid calls also speak the pause recordings (one pause of 400-900 ms inside each sentence) and
 * count false cut-offs: the agent answering inside the pause, or the utterance split into two turns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/telemetry/logger.ts';
import { defaultSpeechSettings } from '../../src/voice/speech-settings.ts';
import { type PauseFixture, pauseManifest, speechManifest } from '../harness/speech.ts';
import type { Backend } from '../backend.ts';
import type { Progress } from '../progress.ts';
import type { CutoffCounts, VoiceDesign, VoiceDesignResult, VoiceScenarioResult, VoiceTurnRecord } from '../results.ts';
import { summarize } from '../stats.ts';
import { pickFixtures, runVoiceCall } from '../voice-call.ts';
import { type SpeechResources, voiceSettings } from '../voice-settings.ts';

export interface VoiceScenarioOptions {
  turns: number;
  /** Run the Letta design too (with the default speech settings). */
  letta: boolean;
  /** Names from `bench/voice-settings.ts`, run with the hybrid design in this order. */
  settings: readonly string[];
  /** Pause recordings spoken per hybrid setting (all of them by default). */
  pauseClips: number;
  resources: SpeechResources;
  logger: Logger;
}

/** The design target: the caller hears the reply start within 1 s of finishing speaking. */
export const voiceTargetMs = 1000;

const how: Record<VoiceDesign, string> = {
  letta:
    'Letta in the path: the llm node sends each user turn to a Letta agent (streaming: true, step streaming) and speaks its assistant_message',
  hybrid:
    'the hybrid design: the product session (createVoiceSession) and llm node streaming from OpenAI, memory from Letta in the prompt, turns written to Letta in the background',
};

/** Cut-offs over the pause recordings' turns, or null when none was spoken. */
export function countCutoffs(turns: readonly VoiceTurnRecord[]): CutoffCounts | null {
  const paused = turns.filter((t) => t.pause !== undefined);
  if (paused.length === 0) return null;
  return {
    utterances: paused.length,
    answeredEarly: paused.filter((t) => t.answeredEarly).length,
    split: paused.filter((t) => t.userTurns >= 2).length,
    cutOff: paused.filter((t) => t.answeredEarly || t.userTurns >= 2).length,
  };
}

export function summarizeDesign(design: VoiceDesign, setting: string, turns: VoiceTurnRecord[]): VoiceDesignResult {
  const ok = turns.filter((t) => !t.error);
  const named = voiceSettings[setting];
  return {
    design,
    setting,
    speech: named?.speech ?? defaultSpeechSettings,
    how: design === 'hybrid' && named ? `${how[design]}; speech setting ${setting}: ${named.what}` : how[design],
    turns,
    transcriptionDelay: summarize(ok.map((t) => t.transcriptionDelayMs)),
    endOfTurnDelay: summarize(ok.map((t) => t.endOfTurnDelayMs)),
    llmTtft: summarize(ok.map((t) => t.llmTtftMs)),
    ttsTtfb: summarize(ok.map((t) => t.ttsTtfbMs)),
    e2e: summarize(ok.map((t) => t.e2eMs)),
    frameworkE2e: summarize(ok.map((t) => t.frameworkE2eMs)),
    ttsWait: summarize(ok.map((t) => t.ttsWaitMs)),
    stageRatio: summarize(ok.map((t) => t.stageRatio)),
    cutoffs: countCutoffs(turns),
    errors: turns.length - ok.length,
  };
}

export async function runVoiceScenario(
  backend: Backend,
  o: VoiceScenarioOptions,
  progress: Progress,
): Promise<VoiceScenarioResult> {
  const notes: string[] = [];
  let letta = o.letta;
  if (letta && backend.missing.letta !== null) {
    notes.push(`letta design skipped: ${backend.missing.letta}`);
    letta = false;
  }
  const fixtures = pickFixtures(speechManifest(), o.turns);
  const pauses: PauseFixture[] = pauseManifest().slice(0, o.pauseClips);
  const hybridTurns = fixtures.length + pauses.length;
  progress.plan((letta ? fixtures.length : 0) + hybridTurns * o.settings.length);
  progress.phase(
    `voice: ${letta ? 'Letta in the path, and ' : ''}hybrid under ${o.settings.join(', ')}; ${fixtures.length} spoken turns and ${pauses.length} pause recordings each`,
  );
  const journalDir = mkdtempSync(join(tmpdir(), 'bench-voice-'));
  try {
    const call = async (design: VoiceDesign, setting: string, clips: typeof fixtures | PauseFixture[]) => {
      const speech = voiceSettings[setting]?.speech ?? defaultSpeechSettings;
      const eotExecutor = o.resources.eotExecutor(speech);
      const r = await runVoiceCall({
        design,
        backend,
        vad: await o.resources.vad(speech),
        speech,
        ...(eotExecutor ? { eotExecutor } : {}),
        fixtures: clips,
        seed: backend.seed,
        identity: `bench-voice-${design}-${setting}-${Date.now()}`,
        journalDir: join(journalDir, `${design}-${setting}`),
        logger: o.logger,
        onTurn: () => progress.tick(),
      });
      if (r.error) notes.push(`${design} (${setting}): ${r.error}`);
      progress.tick(clips.length - r.turns.length);
      return summarizeDesign(design, setting, r.turns);
    };
    const hybridChain = async () => {
      const out: VoiceDesignResult[] = [];
      for (const setting of o.settings) out.push(await call('hybrid', setting, [...fixtures, ...pauses]));
      return out;
    };
    const [lettaResult, hybrids] = await Promise.all([
      letta ? call('letta', 'default', fixtures) : Promise.resolve(null),
      hybridChain(),
    ]);
    notes.push(
      `${fixtures.length} spoken turns per design (${fixtures.map((f) => f.file).join(', ')}); hybrid settings also speak ${pauses.length} pause recordings (bench/fixtures/pauses/); each turn waits for the reply to play out`,
    );
    return {
      turnsPerDesign: fixtures.length,
      designs: [...(lettaResult ? [lettaResult] : []), ...hybrids],
      targetMs: voiceTargetMs,
      notes,
    };
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
  }
}
