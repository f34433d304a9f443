/**
 * Every environment variable the project reads: its schema, what it does, whether it is a secret
 * (never logged) and which commands require it. `.env.example` and the configuration table of
 * docs/operations.md are checked against this list by a test; src/config.ts loads and validates it.
 */
import { z } from 'zod';
import {
  defaultRoomAudioSettings,
  defaultSpeechSettings,
  eotMinVadSilenceMs,
  turnTimingDefaults,
} from './voice/speech-settings.ts';

export type Purpose = 'worker' | 'chat' | 'token' | 'bench' | 'memory' | 'web';

const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` },
  );

const positiveInt = z.coerce.number().int().positive();

const optionalSecret = z.string().min(1).optional();

/** name → schema, description, whether it is secret (never logged), which purposes require it. */
export interface Setting {
  schema: z.ZodType;
  doc: string;
  secret?: boolean;
  requiredFor?: Purpose[];
}

export const settings = {
  LIVEKIT_URL: {
    schema: url(['ws:', 'wss:', 'http:', 'https:']).optional(),
    doc: 'LiveKit server URL, e.g. wss://my-project.livekit.cloud or ws://127.0.0.1:7880 for a local server.',
    requiredFor: ['worker', 'token', 'web'],
  },
  LIVEKIT_API_KEY: { schema: optionalSecret, doc: 'LiveKit API key.', requiredFor: ['worker', 'token', 'web'] },
  LIVEKIT_API_SECRET: {
    schema: optionalSecret,
    doc: 'LiveKit API secret.',
    secret: true,
    requiredFor: ['worker', 'token', 'web'],
  },
  LIVEKIT_AGENT_NAME: {
    schema: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, "-", "_" and "." only')
      .optional(),
    doc: 'Agent name for explicit dispatch. Unset: the worker is dispatched automatically to every new room.',
  },
  LIVEKIT_LOAD_THRESHOLD: {
    schema: z.coerce.number().positive().optional(),
    doc: "Share of WORKER_MAX_CALLS (0-1) at which the worker reports itself full to LiveKit's server, which then sends it no new calls; above 1: never by its report (WORKER_MAX_CALLS still turns calls away). Unset: 1. LiveKit Cloud ignores it and uses machine-wide CPU.",
  },
  WORKER_MAX_CALLS: {
    schema: z.coerce.number().int().min(1).max(1000).optional(),
    doc: "Calls one worker carries at once. The worker reports its calls against this as its load, so dispatch follows the worker's own headroom and not what else the machine is doing, and turns further calls away (logged once, at warn). Unset: 2 per core: a talking call costs about a fifth of a core in its job process (18-22 %, bench/README.md, calls arriving together), and the callers' audio, the server and new calls' starts need the rest.",
  },
  LIVEKIT_NUM_IDLE_PROCESSES: {
    schema: z.coerce.number().int().min(1).max(64).optional(),
    doc: "Job processes kept started and waiting, so a call is greeted without waiting for one to start (each holds about 170 MB idle, 230 MB in a call). Under npm start the framework starts them one at a time (3-5 s each on 2 busy cores), so a burst of calls beyond this number waits in line. Unset: min(cores, 4) under npm start, 1 under npm run dev (the framework's dev default, none, takes a path that never forgets a finished call, so a dev worker filled up for good at WORKER_MAX_CALLS).",
  },
  WORKER_BUNDLE: {
    schema: z.enum(['on', 'off']).optional(),
    doc: 'on: the worker runs itself and its job entry from one bundled file each, built at start with esbuild (about 3 s, skipped while src/ is unchanged) or by the image build; a job process then loads its code faster and holds less (bench/README.md: 4.0 to 3.3 s under load, 232 to 172 MB ready). off, or no esbuild and no bundle of these sources: it runs from src/. Unset: on.',
  },
  JOB_SEMI_SPACE_MB: {
    schema: z.coerce.number().int().min(0).max(64).default(1),
    doc: "V8's young-generation semi-space in the worker's job processes, MB (NODE_OPTIONS --max-semi-space-size, which they inherit): a call's audio buffers otherwise grow it towards 16 MB, resident for the process's life (291 → 233 MB per call's process at 1, same CPU). 0: V8's default.",
  },
  CALL_LEASE_MS: {
    schema: positiveInt.min(1000, 'must be at least 1000').default(5000),
    doc: "How long a call's agent may go without a heartbeat (its job process or whole worker killed) before a live worker removes it from the room and dispatches another agent to the caller, with the call so far in its prompt. Shared through MEMORY_JOURNAL_URL's Redis (every worker can rescue) or MEMORY_JOURNAL_DIR (workers on this machine).",
  },
  WORKER_HEALTH_PORT: {
    schema: z.coerce.number().int().min(1).max(65535).optional(),
    doc: "Port of the worker's health server (GET / and GET /worker). Unset: 8081 under npm start, a free one under npm run dev.",
  },
  OPENAI_API_KEY: { schema: optionalSecret, doc: 'OpenAI API key.', secret: true, requiredFor: ['worker'] },
  OPENAI_BASE_URL: {
    schema: url(['http:', 'https:']).default('https://api.openai.com/v1'),
    doc: 'OpenAI-compatible API base URL (any endpoint that speaks Chat Completions).',
  },
  OPENAI_MODEL: {
    schema: z.string().min(1).default('gpt-4.1-mini'),
    doc: 'Chat model for replies. A fast non-reasoning model keeps the first token early.',
  },
  DEEPGRAM_API_KEY: { schema: optionalSecret, doc: 'Deepgram API key.', secret: true, requiredFor: ['worker'] },
  DEEPGRAM_BASE_URL: {
    schema: url(['ws:', 'wss:']).default('wss://api.deepgram.com'),
    doc: 'Deepgram live transcription base URL (the plugin appends /v1/listen).',
  },
  ELEVEN_API_KEY: { schema: optionalSecret, doc: 'ElevenLabs API key.', secret: true, requiredFor: ['worker'] },
  ELEVENLABS_BASE_URL: {
    schema: url(['http:', 'https:']).default('https://api.elevenlabs.io/v1'),
    doc: 'ElevenLabs API base URL (the plugin opens the multi-stream-input WebSocket under it).',
  },
  ELEVENLABS_VOICE_ID: {
    schema: z.string().min(1).default('bIHbv24MWmeRgasZH58o'),
    doc: 'ElevenLabs voice id.',
  },
  LETTA_API_KEY: {
    schema: optionalSecret,
    doc: 'Letta API key. Unset with LETTA_BASE_URL unset: no memory.',
    secret: true,
  },
  LETTA_BASE_URL: {
    schema: url(['http:', 'https:']).optional(),
    doc: 'Letta API base URL, e.g. https://api.letta.com. Unset (and no LETTA_API_KEY): the agent runs without memory.',
  },
  LETTA_AGENT_ID: {
    schema: z
      .string()
      .regex(
        /^agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        'must look like agent-<uuid4>',
      )
      .optional(),
    doc: 'One Letta agent shared by every caller. Unset: one Letta agent per caller, created on first visit.',
  },
  LETTA_WRITE_MODE: {
    schema: z.enum(['messages', 'archival', 'capture']).default('messages'),
    doc: 'How finished turns reach Letta: messages (the agent files them into memory), archival (passages, no LLM step) or capture.',
  },
  LETTA_AGENT_MODEL: {
    schema: z
      .string()
      .regex(/^[^/\s]+\/\S+$/, 'must be a provider/model handle such as openai/gpt-4.1-mini')
      .default('openai/gpt-4.1-mini'),
    doc: 'Model handle of the per-caller Letta agents created on first visit. Letta Cloud: openai/<model>; a self-hosted server whose OpenAI base URL is not OpenAI’s: openai-proxy/<model>. A handle the server refuses is logged with the handles it offers.',
  },
  LETTA_EMBEDDING_MODEL: {
    schema: z
      .string()
      .regex(/^[^/\s]+\/\S+$/, 'must be a provider/model handle such as openai/text-embedding-3-small')
      .default('openai/text-embedding-3-small'),
    doc: 'Embedding handle of the per-caller Letta agents (archival passages, recall). The same handle works on Letta Cloud and a self-hosted server.',
  },
  LETTA_MEMORY_BUDGET_MS: {
    schema: positiveInt.default(1500),
    doc: 'Hard time budget for reading memory at session start; past it the call goes on without memory until it arrives.',
  },
  LETTA_MEMORY_MAX_CHARS: {
    schema: positiveInt.default(4000),
    doc: 'Upper bound on the memory section of the system prompt, in characters.',
  },
  LETTA_SHUTDOWN_FLUSH_MS: {
    schema: positiveInt
      .max(55_000, 'must leave room inside the 60 s a job gets to shut down (at most 55000)')
      .default(45000),
    doc: 'How long a finished job waits for pending memory writes (the job has 60 s to shut down; the rest stays journaled).',
  },
  MEMORY_JOURNAL_DIR: {
    schema: z.string().min(1).default('./data/journal'),
    doc: 'Directory of the durable turn journal (fsynced before any write to Letta), and of the caller→agent cache.',
  },
  MEMORY_JOURNAL_URL: {
    schema: url(['redis:', 'rediss:']).optional(),
    doc: 'Redis URL of a shared turn journal (redis://user:password@host:6379/0, rediss:// for TLS): for several workers, or containers without a persistent disk. Unset: the journal is files in MEMORY_JOURNAL_DIR.',
    secret: true,
  },
  MEMORY_JOURNAL_CLAIM_IDLE_MS: {
    schema: positiveInt.min(1000, 'must be at least 1000').default(30_000),
    doc: 'Redis journal: how long what a worker holds (its turns, a Letta agent it writes to) outlives it before another worker takes it over; a live worker renews its own every third of it.',
  },
  TTS_CHUNKING: {
    schema: z.enum(['clause', 'sentence']).default(defaultSpeechSettings.ttsChunking),
    doc: "How reply text is cut for ElevenLabs: clause (the first piece at the first clause boundary or after 4 words, then whole sentences, each flushed) or sentence (the plugin's tokenizer: a sentence goes only once the next has begun).",
  },
  TURN_DETECTOR: {
    schema: z.enum(['eot', 'vad']).default(defaultSpeechSettings.turnDetector),
    doc: "Who decides the caller is done: eot (LiveKit's end-of-turn model, run locally, after VAD silence; waits longer at pauses that sound unfinished) or vad (silence alone).",
  },
  VAD_MIN_SILENCE_MS: {
    schema: positiveInt.optional(),
    doc: `Silence that ends a speech segment (Silero). Unset: ${turnTimingDefaults.eot.vadMinSilenceMs} with eot (at least ${eotMinVadSilenceMs}), ${turnTimingDefaults.vad.vadMinSilenceMs} with vad.`,
  },
  ENDPOINTING_MIN_DELAY_MS: {
    schema: z.coerce.number().int().min(0).optional(),
    doc: `Caller's last word → turn committed, at least. Unset: ${turnTimingDefaults.eot.endpointingMinDelayMs} with eot, ${turnTimingDefaults.vad.endpointingMinDelayMs} with vad.`,
  },
  ENDPOINTING_MAX_DELAY_MS: {
    schema: positiveInt.optional(),
    doc: `The same when the end-of-turn model thinks the caller is not done (eot only). Unset: ${turnTimingDefaults.eot.endpointingMaxDelayMs} with eot, ${turnTimingDefaults.vad.endpointingMaxDelayMs} with vad.`,
  },
  PREEMPTIVE_TTS: {
    schema: z.enum(['true', 'false']).default(String(defaultSpeechSettings.preemptiveTts) as 'true' | 'false'),
    doc: 'true: speech synthesis starts on the reply begun at the final transcript, before the turn is committed (its audio plays only once it is); false: only after.',
  },
  DEEPGRAM_ENDPOINTING_MS: {
    schema: z.coerce.number().int().min(10).default(defaultSpeechSettings.deepgramEndpointingMs),
    doc: 'Silence (ms) Deepgram waits for before it finalises a transcript; longer means fewer transcripts cut at pauses but later ones.',
  },
  ROOM_AUDIO_QUEUE_MS: {
    schema: z.coerce.number().int().min(10).multipleOf(10).default(defaultRoomAudioSettings.queueMs),
    doc: "In a room: how far the reply's audio may run ahead of real time in the agent's audio source (ms, a multiple of 10). An interruption clears what it holds.",
  },
  ROOM_AUDIO_DTX: {
    schema: z.enum(['true', 'false']).default(String(defaultRoomAudioSettings.dtx) as 'true' | 'false'),
    doc: "In a room: Opus discontinuous transmission on the agent's audio track (few packets while the agent is silent).",
  },
  ROOM_AUDIO_RED: {
    schema: z.enum(['true', 'false']).default(String(defaultRoomAudioSettings.red) as 'true' | 'false'),
    doc: "In a room: redundant audio packets (RED) on the agent's audio track, which hide a lost packet at the cost of bandwidth.",
  },
  ROOM_INPUT_SAMPLE_RATE: {
    schema: z.enum(['16000', '24000', '48000']).default(String(defaultSpeechSettings.roomInputSampleRate) as '16000'),
    doc: "Rate (Hz) the caller's audio is decoded to in a room call. Silero and Deepgram both take 16000: at any other rate each resamples every 10 ms frame again, in the job process.",
  },
  ROOM_INPUT_FRAME_MS: {
    schema: z.coerce.number().int().min(10).max(100).multipleOf(10).default(defaultSpeechSettings.roomInputFrameMs),
    doc: "Length (ms) of the frames the caller's audio is cut into in a room call, 10 to 100 in steps of 10: each frame is one crossing of the native layer and the framework's streams, so longer frames cost less CPU; a VAD decision may come up to one frame later.",
  },
  NEW_CALLER_GREETING: {
    schema: z.string().min(1).max(500).optional(),
    doc: 'Words a caller the agent has no memory of (their first call, or no Letta configured) is greeted with, synthesized once per voice and cached in MEMORY_JOURNAL_DIR/greetings, so they play as soon as the session starts, with no model reply and no TTS request before them. Unset: the model greets every caller.',
  },
  AGENT_INSTRUCTIONS: {
    schema: z.string().min(1).optional(),
    doc: 'System instructions for the voice agent. Unset: a built-in concise voice-assistant prompt.',
  },
  LOG_LEVEL: {
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    doc: 'Log level of the worker and the CLIs.',
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    schema: url(['http:', 'https:']).optional(),
    doc: 'OpenTelemetry traces endpoint (OTLP over HTTP, protobuf), used as is, e.g. http://127.0.0.1:4318/v1/traces. Unset: no trace export.',
  },
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: {
    schema: url(['http:', 'https:']).optional(),
    doc: 'OpenTelemetry metrics endpoint (OTLP over HTTP, protobuf), used as is, e.g. http://127.0.0.1:4318/v1/metrics. Unset: no metrics push.',
  },
  METRICS_HOST: {
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address the worker serves Prometheus metrics on (GET /metrics). The default keeps them on this machine.',
  },
  METRICS_PORT: {
    schema: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).default(9464),
    doc: 'Port of the Prometheus metrics endpoint (0 picks a free one, logged at start; off serves none).',
  },
  WEB_HOST: {
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address npm run web (the join page and its token endpoint) listens on. Any address but loopback needs WEB_AUTH_TOKEN.',
  },
  WEB_PORT: {
    schema: z.coerce.number().int().min(0).max(65535).default(3000),
    doc: 'Port of npm run web (0 picks a free one, printed at start).',
  },
  WEB_AUTH_TOKEN: {
    schema: z.string().min(32, 'must be at least 32 characters').optional(),
    doc: 'Bearer token every token request to npm run web must carry (Authorization: Bearer ...). Required when WEB_HOST is not a loopback address: a token for an identity hears what the agent remembers about that caller.',
    secret: true,
  },
  WEB_STAND_INS: {
    schema: z
      .string()
      .regex(
        /^\s*((openai|deepgram|elevenlabs|letta)\s*(,\s*|$))*$/,
        'a comma-separated list of openai, deepgram, elevenlabs, letta',
      )
      .optional(),
    doc: 'Set by npm run local: the services that are stand-ins from sim/ (comma-separated: openai, deepgram, elevenlabs, letta), which the join page names. Unset: the page names none.',
  },
  WEB_SIMULATED_SPEECH: {
    schema: z.string().optional(),
    doc: 'Set by npm run local when the Deepgram stand-in hears the caller: what it will "hear", in order, |-separated. The join page then says that speech recognition is simulated, lists these lines, and marks the caller\'s lines as simulated.',
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof settings;
