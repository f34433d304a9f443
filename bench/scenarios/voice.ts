/**
 * Scenario `voice`: the whole session without a room, once with Letta in the path (the llm node
 * streams each reply from a Letta agent, step streaming) and once with the hybrid design. The two
 * calls run side by side, each on its own stand-ins with the same seed, so their speech-to-text
 * and text-to-speech draws are the same and the difference is the reply path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VAD } from '@livekit/agents';
import type { Logger } from '../../src/telemetry/logger.ts';
import { speechManifest } from '../harness/speech.ts';
import type { Backend } from '../backend.ts';
import type { Progress } from '../progress.ts';
import type { VoiceDesign, VoiceDesignResult, VoiceScenarioResult, VoiceTurnRecord } from '../results.ts';
import { summarize } from '../stats.ts';
import { pickFixtures, runVoiceCall } from '../voice-call.ts';

export interface VoiceScenarioOptions {
  turns: number;
  designs: readonly VoiceDesign[];
  vad: VAD;
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

export function summarizeDesign(design: VoiceDesign, turns: VoiceTurnRecord[]): VoiceDesignResult {
  const ok = turns.filter((t) => !t.error);
  return {
    design,
    how: how[design],
    turns,
    transcriptionDelay: summarize(ok.map((t) => t.transcriptionDelayMs)),
    endOfTurnDelay: summarize(ok.map((t) => t.endOfTurnDelayMs)),
    llmTtft: summarize(ok.map((t) => t.llmTtftMs)),
    ttsTtfb: summarize(ok.map((t) => t.ttsTtfbMs)),
    e2e: summarize(ok.map((t) => t.e2eMs)),
    frameworkE2e: summarize(ok.map((t) => t.frameworkE2eMs)),
    errors: turns.length - ok.length,
  };
}

export async function runVoiceScenario(
  backend: Backend,
  o: VoiceScenarioOptions,
  progress: Progress,
): Promise<VoiceScenarioResult> {
  const notes: string[] = [];
  const designs = o.designs.filter((d) => {
    if (d === 'letta' && backend.missing.letta !== null) {
      notes.push(`letta design skipped: ${backend.missing.letta}`);
      return false;
    }
    return true;
  });
  const fixtures = pickFixtures(speechManifest(), o.turns);
  progress.plan(fixtures.length * designs.length);
  progress.phase(`voice: ${designs.join(' and ')}, ${fixtures.length} spoken turns each`);
  const journalDir = mkdtempSync(join(tmpdir(), 'bench-voice-'));
  try {
    const results = await Promise.all(
      designs.map(async (design) => {
        const r = await runVoiceCall({
          design,
          backend,
          vad: o.vad,
          fixtures,
          seed: backend.seed,
          identity: `bench-voice-${design}-${Date.now()}`,
          journalDir: join(journalDir, design),
          logger: o.logger,
          onTurn: () => progress.tick(),
        });
        if (r.error) notes.push(`${design}: ${r.error}`);
        progress.tick(fixtures.length - r.turns.length);
        return summarizeDesign(design, r.turns);
      }),
    );
    notes.push(
      `${fixtures.length} turns per design (${fixtures.map((f) => f.file).join(', ')}); each turn waits for the reply to play out`,
    );
    return { turnsPerDesign: fixtures.length, designs: results, targetMs: voiceTargetMs, notes };
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
  }
}
