/**
 * The configuration, validated once and typed, from the settings in src/settings.ts. A bad setting
 * is reported with its name, what is wrong and how to fix it, all problems at once.
 */
import type { z } from 'zod';
import { type Purpose, type Setting, type SettingName, settings } from './settings.ts';
import {
  type RoomAudioSettings,
  type RoomInputSampleRate,
  type SpeechSettings,
  eotMinVadSilenceMs,
  turnTimingDefaults,
} from './voice/speech-settings.ts';

type Parsed = { [K in SettingName]: z.output<(typeof settings)[K]['schema']> };

export interface Config {
  livekit: {
    url?: string;
    apiKey?: string;
    apiSecret?: string;
    agentName?: string;
    loadThreshold?: number;
    maxCalls?: number;
    numIdleProcesses?: number;
    healthPort?: number;
    callLeaseMs: number;
  };
  openai: { apiKey?: string; baseURL: string; model: string };
  deepgram: { apiKey?: string; baseURL: string };
  elevenlabs: { apiKey?: string; baseURL: string; voiceId: string };
  letta: {
    apiKey?: string;
    baseURL?: string;
    agentId?: string;
    writeMode: 'messages' | 'archival' | 'capture';
    agentModel: string;
    embeddingModel: string;
    memoryBudgetMs: number;
    memoryMaxChars: number;
    shutdownFlushMs: number;
    journalDir: string;
    journalUrl?: string;
    claimIdleMs: number;
  };
  speech: SpeechSettings;
  roomAudio: RoomAudioSettings;
  instructions?: string;
  /** See NEW_CALLER_GREETING. */
  newCallerGreeting?: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Run the worker and its job processes from bundled files (src/worker/bundle.ts). */
  workerBundle: boolean;
  /** V8's semi-space cap for job processes, MB; 0: V8's default (src/worker/young-generation.ts). */
  jobSemiSpaceMb: number;
  tracesEndpoint?: string;
  metrics: { host: string; port: number | 'off'; otlpEndpoint?: string };
  web: {
    host: string;
    port: number;
    authToken?: string;
    /** What the join page is told about this setup (npm run local sets it). */
    setup: PageSetup;
  };
  /** Values that must never reach a log. */
  secrets: string[];
}

export interface PageSetup {
  /** Services that are stand-ins from sim/. */
  standIns: string[];
  /** What the Deepgram stand-in will "hear", in order; empty when recognition is real. */
  simulatedSpeech: string[];
}

export interface ConfigProblem {
  name: string;
  problem: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function formatProblems(problems: ConfigProblem[]): string {
  const lines = problems.map((p) => `  - ${p.name} ${p.problem}.\n      ${p.fix}`);
  return [
    `Configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`,
    ...lines,
    'Set them in the environment or in .env (see .env.example for every setting).',
  ].join('\n');
}

/** Blank values count as unset: a `.env` copied from the example leaves many keys empty. */
function clean(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(settings)) {
    const v = env[name]?.trim();
    if (v) out[name] = v;
  }
  return out;
}

/**
 * Validates the environment for one purpose. Throws a ConfigError listing every problem.
 * `overrides` lets the chat CLI and the bench point services at the stand-ins.
 */
export function loadConfig(purpose: Purpose, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = clean(env);
  const problems: ConfigProblem[] = [];
  const parsed: Partial<Record<SettingName, unknown>> = {};
  for (const [name, s] of Object.entries(settings) as [SettingName, Setting][]) {
    const r = s.schema.safeParse(raw[name]);
    if (!r.success) {
      const issue = r.error.issues[0];
      problems.push({
        name,
        problem: `${issue?.message ?? 'invalid'} (got ${s.secret ? 'a value' : JSON.stringify(raw[name])})`,
        fix: s.doc,
      });
    } else if (r.data === undefined && s.requiredFor?.includes(purpose)) {
      problems.push({ name, problem: `is required to run the ${purpose}`, fix: s.doc });
    } else {
      parsed[name] = r.data;
    }
  }
  const lettaHalf = parsed.LETTA_AGENT_ID !== undefined && !raw.LETTA_BASE_URL && !raw.LETTA_API_KEY;
  if (lettaHalf) {
    problems.push({
      name: 'LETTA_AGENT_ID',
      problem: 'is set but neither LETTA_BASE_URL nor LETTA_API_KEY is',
      fix: 'Set LETTA_API_KEY (Letta Cloud) or LETTA_BASE_URL (another Letta server), or unset LETTA_AGENT_ID.',
    });
  }
  const eotSilence = parsed.VAD_MIN_SILENCE_MS;
  if (parsed.TURN_DETECTOR === 'eot' && typeof eotSilence === 'number' && eotSilence < eotMinVadSilenceMs) {
    problems.push({
      name: 'VAD_MIN_SILENCE_MS',
      problem: `is ${eotSilence}, below the ${eotMinVadSilenceMs} ms the end-of-turn model needs`,
      fix: settings.VAD_MIN_SILENCE_MS.doc,
    });
  }
  const min = parsed.ENDPOINTING_MIN_DELAY_MS;
  const max = parsed.ENDPOINTING_MAX_DELAY_MS;
  if (typeof min === 'number' && typeof max === 'number' && max < min) {
    problems.push({
      name: 'ENDPOINTING_MAX_DELAY_MS',
      problem: `is ${max}, below ENDPOINTING_MIN_DELAY_MS (${min})`,
      fix: settings.ENDPOINTING_MAX_DELAY_MS.doc,
    });
  }
  if (purpose === 'web' && typeof parsed.WEB_HOST === 'string' && !isLoopback(parsed.WEB_HOST) && !raw.WEB_AUTH_TOKEN) {
    problems.push({
      name: 'WEB_AUTH_TOKEN',
      problem: `is required when WEB_HOST (${parsed.WEB_HOST}) is not a loopback address`,
      fix: settings.WEB_AUTH_TOKEN.doc,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(parsed as Parsed);
}

function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function toConfig(p: Parsed): Config {
  const secrets = (Object.entries(settings) as [SettingName, Setting][])
    .filter(([name, s]) => s.secret && typeof p[name] === 'string')
    .map(([name]) => p[name] as string);
  // A URL's password can show up without the rest of the URL (a client's error message).
  const journalPassword = p.MEMORY_JOURNAL_URL ? decodeURIComponent(new URL(p.MEMORY_JOURNAL_URL).password) : '';
  if (journalPassword) secrets.push(journalPassword);
  return {
    livekit: {
      ...defined({
        url: p.LIVEKIT_URL,
        apiKey: p.LIVEKIT_API_KEY,
        apiSecret: p.LIVEKIT_API_SECRET,
        agentName: p.LIVEKIT_AGENT_NAME,
        loadThreshold: p.LIVEKIT_LOAD_THRESHOLD,
        maxCalls: p.WORKER_MAX_CALLS,
        numIdleProcesses: p.LIVEKIT_NUM_IDLE_PROCESSES,
        healthPort: p.WORKER_HEALTH_PORT,
      }),
      callLeaseMs: p.CALL_LEASE_MS,
    },
    openai: { ...defined({ apiKey: p.OPENAI_API_KEY }), baseURL: p.OPENAI_BASE_URL, model: p.OPENAI_MODEL },
    deepgram: { ...defined({ apiKey: p.DEEPGRAM_API_KEY }), baseURL: p.DEEPGRAM_BASE_URL },
    elevenlabs: {
      ...defined({ apiKey: p.ELEVEN_API_KEY }),
      baseURL: p.ELEVENLABS_BASE_URL,
      voiceId: p.ELEVENLABS_VOICE_ID,
    },
    letta: {
      ...defined({
        apiKey: p.LETTA_API_KEY,
        baseURL: p.LETTA_BASE_URL ?? (p.LETTA_API_KEY ? 'https://api.letta.com' : undefined),
        agentId: p.LETTA_AGENT_ID,
      }),
      writeMode: p.LETTA_WRITE_MODE,
      agentModel: p.LETTA_AGENT_MODEL,
      embeddingModel: p.LETTA_EMBEDDING_MODEL,
      memoryBudgetMs: p.LETTA_MEMORY_BUDGET_MS,
      memoryMaxChars: p.LETTA_MEMORY_MAX_CHARS,
      shutdownFlushMs: p.LETTA_SHUTDOWN_FLUSH_MS,
      journalDir: p.MEMORY_JOURNAL_DIR,
      ...defined({ journalUrl: p.MEMORY_JOURNAL_URL }),
      claimIdleMs: p.MEMORY_JOURNAL_CLAIM_IDLE_MS,
    },
    speech: speechSettings(p),
    roomAudio: { queueMs: p.ROOM_AUDIO_QUEUE_MS, dtx: p.ROOM_AUDIO_DTX === 'true', red: p.ROOM_AUDIO_RED === 'true' },
    ...defined({
      instructions: p.AGENT_INSTRUCTIONS,
      newCallerGreeting: p.NEW_CALLER_GREETING,
      tracesEndpoint: p.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    }),
    metrics: {
      host: p.METRICS_HOST,
      port: p.METRICS_PORT,
      ...defined({ otlpEndpoint: p.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT }),
    },
    web: {
      host: p.WEB_HOST,
      port: p.WEB_PORT,
      ...defined({ authToken: p.WEB_AUTH_TOKEN }),
      setup: {
        standIns: listOf(p.WEB_STAND_INS, ','),
        simulatedSpeech: listOf(p.WEB_SIMULATED_SPEECH, '|'),
      },
    },
    logLevel: p.LOG_LEVEL,
    workerBundle: p.WORKER_BUNDLE !== 'off',
    jobSemiSpaceMb: p.JOB_SEMI_SPACE_MB,
    secrets,
  };
}

/** A separated list's non-blank items, trimmed. */
function listOf(raw: string | undefined, separator: string): string[] {
  return (raw ?? '')
    .split(separator)
    .map((t) => t.trim())
    .filter(Boolean);
}

/** The speech settings; timings left unset follow the chosen turn detector. */
function speechSettings(p: Parsed): SpeechSettings {
  const timing = turnTimingDefaults[p.TURN_DETECTOR];
  return {
    ttsChunking: p.TTS_CHUNKING,
    turnDetector: p.TURN_DETECTOR,
    vadMinSilenceMs: p.VAD_MIN_SILENCE_MS ?? timing.vadMinSilenceMs,
    endpointingMinDelayMs: p.ENDPOINTING_MIN_DELAY_MS ?? timing.endpointingMinDelayMs,
    endpointingMaxDelayMs: p.ENDPOINTING_MAX_DELAY_MS ?? timing.endpointingMaxDelayMs,
    preemptiveTts: p.PREEMPTIVE_TTS === 'true',
    deepgramEndpointingMs: p.DEEPGRAM_ENDPOINTING_MS,
    roomInputSampleRate: Number(p.ROOM_INPUT_SAMPLE_RATE) as RoomInputSampleRate,
    roomInputFrameMs: p.ROOM_INPUT_FRAME_MS,
  };
}

/**
 * For settings that `loadConfig(purpose)` already required: narrows the type, and names the
 * setting if a caller skipped validation.
 */
export function requireSetting(value: string | undefined, name: SettingName): string {
  if (value === undefined) throw new ConfigError([{ name, problem: 'is required', fix: settings[name].doc }]);
  return value;
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** True when Letta is configured at all. */
export function hasLetta(c: Config): boolean {
  return c.letta.baseURL !== undefined;
}

/**
 * Loads `.env` (if present) into process.env without overriding what is already set, then
 * validates. On failure prints the one message and exits with code 2, no stack trace.
 */
export function loadConfigOrExit(purpose: Purpose, envFile = '.env'): Config {
  try {
    process.loadEnvFile(envFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      process.stderr.write(`Could not read ${envFile}: ${(err as Error).message}\n`);
      process.exit(2);
    }
  }
  try {
    return loadConfig(purpose);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
