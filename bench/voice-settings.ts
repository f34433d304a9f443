/**
 * The speech settings the voice scenario compares, by name: today's baseline, each lever on its
 * own, and the worker's defaults. Each runs as its own call, one after the other, so they never
 * share the CPU; every call gets the same seed, so the stand-ins' latency draws are the same.
 */
import type { VAD, ipc } from '@livekit/agents';
import { inProcessEotExecutor } from '../src/voice/end-of-turn.ts';
import { loadVad } from '../src/voice/session-factory.ts';
import {
  type SpeechSettings,
  baselineSpeechSettings as baseline,
  defaultSpeechSettings,
  turnTimingDefaults,
} from '../src/voice/speech-settings.ts';

const bothTts: SpeechSettings = { ...baseline, ttsChunking: 'clause', preemptiveTts: true };

export const voiceSettings: Record<string, { speech: SpeechSettings; what: string }> = {
  baseline: {
    speech: baseline,
    what: 'before these levers: sentence tokenizer, no preemptive TTS, VAD silence 550 ms, Deepgram endpointing 25 ms',
  },
  clause: { speech: { ...baseline, ttsChunking: 'clause' }, what: 'baseline + first TTS piece at the first clause' },
  'preemptive-tts': { speech: { ...baseline, preemptiveTts: true }, what: 'baseline + preemptive TTS' },
  'clause+preemptive-tts': { speech: bothTts, what: 'both TTS levers, VAD silence 550 ms' },
  eot: {
    speech: { ...bothTts, turnDetector: 'eot', ...turnTimingDefaults.eot },
    what: 'both TTS levers + the end-of-turn model: VAD silence 250 ms, endpointing 300 ms, 2500 ms when unfinished',
  },
  'deepgram-500': {
    speech: { ...defaultSpeechSettings, deepgramEndpointingMs: 500 },
    what: 'the defaults + Deepgram endpointing 500 ms',
  },
  default: {
    speech: defaultSpeechSettings,
    what: "the worker's defaults: both TTS levers, VAD silence 1000 ms, Deepgram endpointing 25 ms",
  },
};

/** `levers`: every named setting; otherwise a comma-separated list of names. */
export const voiceSettingAliases: Record<string, string[]> = { levers: Object.keys(voiceSettings) };

export const defaultVoiceSettings = ['baseline', 'default'];

export function resolveVoiceSettings(list: string): string[] {
  const names = list.split(',').flatMap((n) => voiceSettingAliases[n.trim()] ?? [n.trim()]);
  const unknown = names.filter((n) => !(n in voiceSettings));
  if (unknown.length > 0) {
    throw new Error(
      `unknown voice setting ${unknown.join(', ')} (known: ${[...Object.keys(voiceSettings), ...Object.keys(voiceSettingAliases)].join(', ')})`,
    );
  }
  return [...new Set(names)];
}

/** What a setting needs loaded: Silero with its silence (one per silence), the model once. */
export class SpeechResources {
  readonly #vads = new Map<number, Promise<VAD>>();
  #eot: ipc.InferenceExecutor | undefined;

  async vad(speech: SpeechSettings): Promise<VAD> {
    let v = this.#vads.get(speech.vadMinSilenceMs);
    if (!v) {
      v = loadVad(speech).then((vad) => {
        // One VAD serves every call of the process that uses this silence, and every session subscribes to it.
        vad.setMaxListeners(0);
        return vad;
      });
      this.#vads.set(speech.vadMinSilenceMs, v);
    }
    return v;
  }

  eotExecutor(speech: SpeechSettings): ipc.InferenceExecutor | undefined {
    if (speech.turnDetector !== 'eot') return undefined;
    this.#eot ??= inProcessEotExecutor();
    return this.#eot;
  }
}
