/**
 * Where the bench's services live. Without `--live` every service is a built-in stand-in started
 * on a loopback port with the chosen latency profile: each call starts a fresh, isolated
 * instance, so paths that run side by side never share a latency draw or a Letta agent lock.
 * With `--live` the services come from the configuration (`loadConfig('bench')`), and any
 * endpoint that speaks the protocol will do.
 */
import { type Config, loadConfig } from '../src/config.ts';
import type { ProfileInfo } from './results.ts';
import {
  type DeepgramStandIn,
  type ScriptedTranscript,
  startDeepgramStandIn,
  type ElevenLabsStandIn,
  startElevenLabsStandIn,
  type LettaStandIn,
  startLettaStandIn,
  type OpenAIStandIn,
  type Responder,
  defaultResponder,
  startOpenAIStandIn,
  type LatencyProfile,
} from '../sim/index.ts';

export interface OpenAIEndpoint {
  baseURL: string;
  apiKey: string;
  model: string;
  /** Sim only: the stand-in, whose request log is the ground truth for the bench's own timing. */
  standIn?: OpenAIStandIn;
  close(): Promise<void>;
}

export interface LettaEndpoint {
  baseURL: string;
  apiKey?: string;
  /** Model handle for agents the bench creates. */
  agentModel: string;
  standIn?: LettaStandIn;
  /** Sim only: the stand-in the Letta agents use as their model. */
  model?: OpenAIStandIn;
  close(): Promise<void>;
}

export interface DeepgramEndpoint {
  baseURL: string;
  apiKey: string;
  standIn?: DeepgramStandIn;
  close(): Promise<void>;
}

export interface ElevenLabsEndpoint {
  baseURL: string;
  apiKey: string;
  voiceId: string;
  standIn?: ElevenLabsStandIn;
  close(): Promise<void>;
}

export interface Backend {
  mode: 'sim' | 'live';
  profile: ProfileInfo;
  seed: number;
  config: Config;
  /** Why a service cannot be used, or null when it can. */
  missing: { openai: string | null; letta: string | null; deepgram: string | null; elevenlabs: string | null };
  /** `seed` derives a stand-in's latency draws (sim); it is ignored live. */
  openai(seed: number): Promise<OpenAIEndpoint>;
  letta(seed: number): Promise<LettaEndpoint>;
  /** `transcripts`: what the stand-in "hears", in order (sim only). */
  deepgram(seed: number, transcripts: ScriptedTranscript[]): Promise<DeepgramEndpoint>;
  elevenlabs(seed: number): Promise<ElevenLabsEndpoint>;
  /** Closes everything still open. */
  close(): Promise<void>;
  /** Configuration for the results file: URLs and settings, never a key. */
  describe(): Record<string, unknown>;
}

/** Every instance ever started is tracked so that an aborted run still closes its ports. */
class Closers {
  readonly #open = new Set<() => Promise<void>>();
  track(close: () => Promise<void>): () => Promise<void> {
    let done = false;
    const once = async () => {
      if (done) return;
      done = true;
      this.#open.delete(once);
      await close();
    };
    this.#open.add(once);
    return once;
  }
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#open].map((c) => c()));
  }
}

/**
 * The Letta agents' model in sim mode. A conversation turn gets the stand-in's usual reply (the
 * same text the other paths get); a call transcript filed by the memory writer gets one short
 * note, as a memory agent answers after its memory edits, instead of an echo of the whole
 * transcript, which would make every memory write as slow as reading the transcript aloud.
 */
export function lettaModelResponder(): Responder {
  const reply = defaultResponder();
  return (req, i) => {
    const last = req.messages.findLast((m) => m.role === 'user');
    const text = typeof last?.content === 'string' ? last.content : '';
    if (text.startsWith('[Voice call transcript')) return { content: 'Noted. I filed what matters about the caller.' };
    return reply(req, i);
  };
}

export function simBackend(opts: { profile: LatencyProfile; seed: number }): Backend {
  const { profile, seed } = opts;
  // The product's defaults (model names, memory budget, write mode), never the caller's environment.
  const config = loadConfig('bench', {});
  const closers = new Closers();
  return {
    mode: 'sim',
    profile: { name: profile.name, description: profile.description, sources: profile.sources, values: profile },
    seed,
    config,
    missing: { openai: null, letta: null, deepgram: null, elevenlabs: null },
    async openai(s) {
      const standIn = await startOpenAIStandIn({ profile, seed: s });
      return {
        baseURL: standIn.url,
        apiKey: 'sim',
        model: config.openai.model,
        standIn,
        close: closers.track(() => standIn.close()),
      };
    },
    async letta(s) {
      // The Letta agents' own model: a separate stand-in, so Letta's traffic never shifts another path's draws.
      const model = await startOpenAIStandIn({ profile, seed: s ^ 0x5bd1e995, respond: lettaModelResponder() });
      const standIn = await startLettaStandIn({ profile, seed: s, modelBaseUrl: model.url });
      const close = closers.track(async () => {
        await standIn.close();
        await model.close();
      });
      return { baseURL: standIn.url, apiKey: 'sim', agentModel: config.letta.agentModel, standIn, model, close };
    },
    async deepgram(s, transcripts) {
      const standIn = await startDeepgramStandIn({ profile, seed: s, transcripts });
      return { baseURL: standIn.url, apiKey: 'sim', standIn, close: closers.track(() => standIn.close()) };
    },
    async elevenlabs(s) {
      const standIn = await startElevenLabsStandIn({ profile, seed: s });
      return {
        baseURL: standIn.url,
        apiKey: 'sim',
        voiceId: config.elevenlabs.voiceId,
        standIn,
        close: closers.track(() => standIn.close()),
      };
    },
    close: () => closers.closeAll(),
    describe: () => ({
      services: 'built-in stand-ins (sim/), one isolated instance per path or lane, on 127.0.0.1',
      openaiModel: config.openai.model,
      lettaAgentModel: config.letta.agentModel,
      lettaWriteMode: config.letta.writeMode,
      memoryBudgetMs: config.letta.memoryBudgetMs,
      memoryMaxChars: config.letta.memoryMaxChars,
    }),
  };
}

const vendorDefaults = {
  openai: 'https://api.openai.com/v1',
  deepgram: 'wss://api.deepgram.com',
  elevenlabs: 'https://api.elevenlabs.io/v1',
};

/** A URL without credentials, query or fragment: safe for a results file. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A vendor's own endpoint needs its key; any other URL is taken to be a compatible server
 * (a proxy, a local stand-in) that may not check keys, and gets a placeholder key.
 */
function keyFor(
  name: keyof typeof vendorDefaults,
  baseURL: string,
  key: string | undefined,
  setting: string,
): { key: string } | { missing: string } {
  if (key !== undefined) return { key };
  if (baseURL === vendorDefaults[name]) return { missing: `${setting} is not set` };
  return { key: 'unset' };
}

export function liveBackend(env: NodeJS.ProcessEnv = process.env): Backend {
  const config = loadConfig('bench', env);
  const openaiKey = keyFor('openai', config.openai.baseURL, config.openai.apiKey, 'OPENAI_API_KEY');
  const deepgramKey = keyFor('deepgram', config.deepgram.baseURL, config.deepgram.apiKey, 'DEEPGRAM_API_KEY');
  const elevenKey = keyFor('elevenlabs', config.elevenlabs.baseURL, config.elevenlabs.apiKey, 'ELEVEN_API_KEY');
  const lettaURL = config.letta.baseURL;
  const missingOf = (k: { key: string } | { missing: string }) => ('missing' in k ? k.missing : null);
  const need = (k: { key: string } | { missing: string }, what: string): string => {
    if ('missing' in k) throw new Error(`${what}: ${k.missing}`);
    return k.key;
  };
  const noop = async () => {};
  return {
    mode: 'live',
    profile: {
      name: 'live',
      description:
        'the endpoints in OPENAI_BASE_URL, LETTA_BASE_URL, DEEPGRAM_BASE_URL and ELEVENLABS_BASE_URL, with their keys',
      sources: ['measured against the configured endpoints'],
      values: null,
    },
    seed: 0,
    config,
    missing: {
      openai: missingOf(openaiKey),
      letta: lettaURL === undefined ? 'LETTA_BASE_URL (or LETTA_API_KEY) is not set' : null,
      deepgram: missingOf(deepgramKey),
      elevenlabs: missingOf(elevenKey),
    },
    async openai() {
      return {
        baseURL: config.openai.baseURL,
        apiKey: need(openaiKey, 'OpenAI'),
        model: config.openai.model,
        close: noop,
      };
    },
    async letta() {
      if (lettaURL === undefined) throw new Error('Letta is not configured (LETTA_BASE_URL or LETTA_API_KEY)');
      return {
        baseURL: lettaURL,
        ...(config.letta.apiKey !== undefined ? { apiKey: config.letta.apiKey } : {}),
        agentModel: config.letta.agentModel,
        close: noop,
      };
    },
    async deepgram() {
      return { baseURL: config.deepgram.baseURL, apiKey: need(deepgramKey, 'Deepgram'), close: noop };
    },
    async elevenlabs() {
      return {
        baseURL: config.elevenlabs.baseURL,
        apiKey: need(elevenKey, 'ElevenLabs'),
        voiceId: config.elevenlabs.voiceId,
        close: noop,
      };
    },
    close: noop,
    describe: () => ({
      services: 'live: endpoints from the configuration',
      openai: publicUrl(config.openai.baseURL),
      openaiModel: config.openai.model,
      letta: lettaURL === undefined ? null : publicUrl(lettaURL),
      lettaAgentModel: config.letta.agentModel,
      lettaWriteMode: config.letta.writeMode,
      deepgram: publicUrl(config.deepgram.baseURL),
      elevenlabs: publicUrl(config.elevenlabs.baseURL),
      elevenlabsVoiceId: config.elevenlabs.voiceId,
      memoryBudgetMs: config.letta.memoryBudgetMs,
      memoryMaxChars: config.letta.memoryMaxChars,
    }),
  };
}
