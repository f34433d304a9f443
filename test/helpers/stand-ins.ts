/** Starts the three speech-path stand-ins together, with one profile, for pipeline tests. */
import {
  type DeepgramStandIn,
  startDeepgramStandIn,
  type ElevenLabsStandIn,
  startElevenLabsStandIn,
  type OpenAIStandIn,
  type Responder,
  startOpenAIStandIn,
  type LatencyProfile,
  profiles,
} from '../../sim/index.ts';

export interface SpeechStandIns {
  openai: OpenAIStandIn;
  deepgram: DeepgramStandIn;
  elevenlabs: ElevenLabsStandIn;
  close(): Promise<void>;
}

export async function startSpeechStandIns(
  opts: { profile?: LatencyProfile; transcripts?: string[]; respond?: Responder } = {},
): Promise<SpeechStandIns> {
  const profile = opts.profile ?? profiles.instant;
  const [openai, deepgram, elevenlabs] = await Promise.all([
    startOpenAIStandIn({ profile, ...(opts.respond ? { respond: opts.respond } : {}) }),
    startDeepgramStandIn({ profile, transcripts: opts.transcripts ?? [] }),
    startElevenLabsStandIn({ profile }),
  ]);
  return {
    openai,
    deepgram,
    elevenlabs,
    close: async () => {
      await Promise.all([openai.close(), deepgram.close(), elevenlabs.close()]);
    },
  };
}
