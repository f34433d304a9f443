/**
 * ElevenLabs TTS stand-in: the `multi-stream-input` WebSocket and the REST `/stream` endpoint,
 * shaped after what `@livekit/agents-plugin-elevenlabs@1.9.0` (src/tts.ts) sends and parses.
 *
 * Audio is a deterministic vowel-like tone per character (s16le mono at the requested rate), so
 * a listener or a VAD hears speech-shaped sound, and the alignment echoes the received text
 * character for character, because the framework turns it into the assistant transcript.
 *
 * Timing: a context's first audio leaves `ttfb` (profile) after its first non-blank text; later
 * chunks are paced so audio is produced at the profile's `realtimeFactor`, never before the text
 * that they speak was flushed. `requests` holds one entry per socket and per REST call;
 * `contexts` records when each context's text arrived and when every chunk and isFinal left.
 */
import { serveFromCommandLine } from './cli.ts';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { profiles, sampler, seededRandom, type LatencyProfile } from './profile.ts';
import { listen, nowMs, sleep, type RequestLogEntry, type StandIn } from './server.ts';

export interface ElevenLabsStandInOptions {
  profile?: LatencyProfile;
  seed?: number;
  port?: number;
  /** When set, requests must carry it in `xi-api-key`. */
  apiKey?: string;
}

export interface AudioChunkRecord {
  /** When the chunk was handed to the socket (epoch ms). */
  at: number;
  /** PCM bytes in the chunk (before base64). */
  bytes: number;
}

export interface ContextRecord {
  contextId: string;
  /** Sequence number of the WebSocket connection that carried it (1-based). */
  connectionId: number;
  voiceId: string;
  modelId: string;
  outputFormat: string;
  /** Every `text` field received for this context, concatenated (the opening `" "` included). */
  text: string;
  openedAt: number;
  /** First text that is not blank: the start of the profile's ttfb. */
  firstTextAt: number | null;
  firstAudioAt: number | null;
  audioChunks: AudioChunkRecord[];
  /** When `close_context` arrived. */
  closedAt: number | null;
  /** When `{"isFinal": true}` was sent: always after the last audio chunk. */
  finalSentAt: number | null;
  closedByClient: boolean;
  /** The `error` sent instead of audio (see `failNextContext`). */
  error: string | null;
}

export interface ElevenLabsStandIn extends StandIn {
  /** The next context opened on any socket gets `{"error": message, "contextId"}` instead of audio. */
  failNextContext(message: string): void;
  contexts: ContextRecord[];
}

/** Every PCM rate ElevenLabs offers; nothing else can be decoded by the plugin. */
const PCM_RATES = new Set([8000, 16000, 22050, 24000, 44100, 48000]);
const MODELS = new Set([
  'eleven_flash_v2_5',
  'eleven_flash_v2',
  'eleven_turbo_v2_5',
  'eleven_turbo_v2',
  'eleven_multilingual_v2',
  'eleven_v3',
]);
const RETIRED_MODELS = new Set(['eleven_monolingual_v1', 'eleven_multilingual_v1']);
/** ElevenLabs' default `chunk_length_schedule` (characters buffered before each generation). */
const DEFAULT_CHUNK_SCHEDULE = [120, 160, 250, 290];

const VOICED_MS = 65;
const SPACE_MS = 30;
/** Real TTS audio starts with a little silence; the plugin measures it from the first char start > 0. */
const LEADING_SILENCE_MS = 40;
const CHUNK_TARGET_MS = 200;

/** How long the stand-in takes to say `text` (lead-in excluded): what a listener hears of it, in ms. */
export function speechMs(text: string): number {
  return Array.from(text).reduce((ms, ch) => ms + (ch.trim() === '' ? SPACE_MS : VOICED_MS), 0);
}
const PEAK = 0.35 * 32767;
/** Formant pairs (Hz) of five vowels: a, e, i, o, u. */
const VOWELS: readonly (readonly [number, number])[] = [
  [730, 1090],
  [530, 1840],
  [270, 2290],
  [570, 840],
  [300, 870],
];

interface RenderedChunk {
  pcm: Buffer;
  chars: string[];
  /** Char start and end within this chunk, in samples. */
  starts: number[];
  ends: number[];
}

const rendered = new Map<string, Buffer>();

/** One character of "speech": silence for whitespace, otherwise a tone with pitch and vowel from its code point. */
function renderChar(ch: string, rate: number): Buffer {
  const key = `${rate}:${ch}`;
  const cached = rendered.get(key);
  if (cached) return cached;
  const pcm = synthChar(ch, rate);
  // Few distinct characters occur, and the synthesis is the costliest step on the bench's CPU.
  rendered.set(key, pcm);
  return pcm;
}

function synthChar(ch: string, rate: number): Buffer {
  const blank = ch.trim() === '';
  const n = Math.round(((blank ? SPACE_MS : VOICED_MS) * rate) / 1000);
  const out = Buffer.alloc(n * 2);
  if (blank) return out;
  const code = ch.codePointAt(0) ?? 0;
  const f0 = 100 + (code % 13) * 9;
  const [f1, f2] = VOWELS[code % VOWELS.length] ?? [500, 1500];
  const resonance = (f: number, formant: number) => 1 / (1 + ((f - formant) / 120) ** 2);
  const amps: number[] = [];
  for (let k = 1; k * f0 < Math.min(3500, rate / 2); k++) {
    amps.push((0.3 + resonance(k * f0, f1) + resonance(k * f0, f2)) / k);
  }
  const norm = amps.reduce((a, b) => a + b, 0);
  // Short fades keep the character boundaries free of clicks.
  const fade = Math.max(1, Math.round(0.008 * rate));
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let k = 0; k < amps.length; k++) v += (amps[k] ?? 0) * Math.sin((2 * Math.PI * (k + 1) * f0 * i) / rate);
    const env = Math.min(1, i / fade, (n - 1 - i) / fade);
    out.writeInt16LE(Math.round((PEAK * env * v) / norm), i * 2);
  }
  return out;
}

/** Renders text into chunks of about CHUNK_TARGET_MS, cut at character boundaries so each carries its own alignment. */
function renderText(text: string, rate: number, leadingSilenceSamples: number): RenderedChunk[] {
  const target = Math.round((CHUNK_TARGET_MS * rate) / 1000);
  const chunks: RenderedChunk[] = [];
  let parts: Buffer[] = [];
  let cur: Omit<RenderedChunk, 'pcm'> = { chars: [], starts: [], ends: [] };
  let samples = 0;
  if (leadingSilenceSamples > 0) {
    parts.push(Buffer.alloc(leadingSilenceSamples * 2));
    samples = leadingSilenceSamples;
  }
  // Code points, not UTF-16 units: the plugin pads multi-unit chars itself.
  for (const ch of Array.from(text)) {
    const pcm = renderChar(ch, rate);
    cur.chars.push(ch);
    cur.starts.push(samples);
    samples += pcm.length / 2;
    cur.ends.push(samples);
    parts.push(pcm);
    if (samples >= target) {
      chunks.push({ pcm: Buffer.concat(parts), ...cur });
      parts = [];
      cur = { chars: [], starts: [], ends: [] };
      samples = 0;
    }
  }
  if (cur.chars.length > 0) chunks.push({ pcm: Buffer.concat(parts), ...cur });
  return chunks;
}

interface Alignment {
  chars: string[];
  charStartTimesMs: number[];
  charDurationsMs: number[];
}

/**
 * Integer milliseconds like the real service, derived from sample positions so they never drift
 * from the audio, and counted from the start of this chunk's audio as the service counts them
 * (ElevenLabs' WebSocket docs). The 1.9.0 plugin adds no running offset; the project's patch of it
 * does (src/patches/).
 */
function alignment(chunk: RenderedChunk, rate: number): Alignment {
  const ms = (s: number) => Math.round((s * 1000) / rate);
  return {
    chars: chunk.chars,
    charStartTimesMs: chunk.starts.map(ms),
    charDurationsMs: chunk.starts.map((s, i) => ms(chunk.ends[i] ?? s) - ms(s)),
  };
}

function pcmRate(format: string | null): number | null {
  const m = /^pcm_(\d+)$/.exec(format ?? '');
  const rate = m ? Number(m[1]) : NaN;
  return PCM_RATES.has(rate) ? rate : null;
}

/** Why a model id is refused, or null. */
function modelProblem(model: string | null): string | null {
  if (!model) return 'model_id is required';
  if (RETIRED_MODELS.has(model)) return `model ${model} has been retired`;
  if (!MODELS.has(model)) return `unknown model_id ${model}`;
  return null;
}

/** Timers may fire a millisecond early; a profile's latency is a floor, so wait until the clock has really passed it. */
async function waitUntil(at: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && nowMs() < at) await sleep(Math.max(1, Math.ceil(at - nowMs())), signal);
}

function errorBody(status: string, message: string): string {
  return JSON.stringify({ detail: { status, message } });
}

function queryObject(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}

interface Segment {
  text: string;
  readyAt: number;
}

interface LiveContext {
  rec: ContextRecord;
  ttfbMs: number;
  schedule: number[];
  generations: number;
  buffer: string;
  pending: Segment[];
  closing: boolean;
  pumping: boolean;
  samplesSent: number;
  nextSendAt: number | null;
  abort: AbortController;
}

interface SocketParams {
  connectionId: number;
  voiceId: string;
  modelId: string;
  outputFormat: string;
  rate: number;
  autoMode: boolean;
}

/** Fields of a client message that the service reads. */
interface ClientMessage {
  text?: unknown;
  context_id?: unknown;
  flush?: unknown;
  close_context?: unknown;
  close_socket?: unknown;
  generation_config?: { chunk_length_schedule?: unknown };
}

export async function startElevenLabsStandIn(opts: ElevenLabsStandInOptions = {}): Promise<ElevenLabsStandIn> {
  const profile = opts.profile ?? profiles.instant;
  const draw = sampler(seededRandom(opts.seed ?? 1));
  const rtf = profile.elevenlabs.realtimeFactor;
  const requests: RequestLogEntry[] = [];
  const contexts: ContextRecord[] = [];
  const failures: string[] = [];
  const sockets = new Set<WebSocket>();
  const liveContexts = new Set<LiveContext>();
  let connections = 0;

  const authorized = (req: IncomingMessage) => opts.apiKey === undefined || req.headers['xi-api-key'] === opts.apiKey;

  const wss = new WebSocketServer({ noServer: true });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rest = /^\/v1\/text-to-speech\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method === 'POST' && rest?.[1]) {
      handleRest(req, res, url, decodeURIComponent(rest[1])).catch(() => res.destroy());
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(errorBody('not_found', 'Not Found'));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: RequestLogEntry = {
      at: nowMs(),
      method: 'WS',
      path: url.pathname,
      query: queryObject(url),
      status: 0,
    };
    requests.push(entry);
    const reject = (status: number, code: string, message: string) => {
      entry.status = status;
      const body = errorBody(code, message);
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const match = /^\/v1\/text-to-speech\/([^/]+)\/multi-stream-input$/.exec(url.pathname);
    if (!match?.[1]) return reject(404, 'not_found', 'Not Found');
    if (!authorized(req)) return reject(401, 'invalid_api_key', 'Invalid API key');
    const outputFormat = url.searchParams.get('output_format') ?? '';
    const rate = pcmRate(outputFormat);
    if (rate === null) return reject(400, 'invalid_output_format', `unsupported output_format ${outputFormat}`);
    const modelId = url.searchParams.get('model_id');
    const problem = modelProblem(modelId);
    if (problem !== null || modelId === null) return reject(400, 'invalid_model', problem ?? 'model_id is required');
    const params: SocketParams = {
      connectionId: ++connections,
      voiceId: decodeURIComponent(match[1]),
      modelId,
      outputFormat,
      rate,
      autoMode: url.searchParams.get('auto_mode') === 'true',
    };
    wss.handleUpgrade(req, socket, head, (ws) => {
      entry.status = 101;
      entry.connectionId = params.connectionId;
      entry.closedAt = null;
      sockets.add(ws);
      ws.on('close', () => {
        entry.closedAt = nowMs();
        sockets.delete(ws);
      });
      serveSocket(ws, params);
    });
  });

  function serveSocket(ws: WebSocket, params: SocketParams): void {
    const active = new Map<string, LiveContext>();
    // Ids whose context failed: the plugin may still have text in flight for them, which is dropped;
    // a new opening message (text " ") starts a fresh context under the same id, as a retry does.
    const failed = new Set<string>();

    const send = (msg: object): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      ws.send(JSON.stringify(msg));
      return true;
    };

    const open = (contextId: string, msg: ClientMessage): LiveContext | null => {
      const at = nowMs();
      const rec: ContextRecord = {
        contextId,
        connectionId: params.connectionId,
        voiceId: params.voiceId,
        modelId: params.modelId,
        outputFormat: params.outputFormat,
        text: '',
        openedAt: at,
        firstTextAt: null,
        firstAudioAt: null,
        audioChunks: [],
        closedAt: null,
        finalSentAt: null,
        closedByClient: false,
        error: null,
      };
      contexts.push(rec);
      const failure = failures.shift();
      if (failure !== undefined) {
        rec.text = typeof msg.text === 'string' ? msg.text : '';
        rec.error = failure;
        failed.add(contextId);
        send({ error: failure, contextId });
        return null;
      }
      const schedule = msg.generation_config?.chunk_length_schedule;
      const ctx: LiveContext = {
        rec,
        ttfbMs: draw(profile.elevenlabs.ttfb),
        schedule:
          Array.isArray(schedule) && schedule.length > 0 && schedule.every((n) => typeof n === 'number')
            ? schedule
            : DEFAULT_CHUNK_SCHEDULE,
        generations: 0,
        buffer: '',
        pending: [],
        closing: false,
        pumping: false,
        samplesSent: 0,
        nextSendAt: null,
        abort: new AbortController(),
      };
      active.set(contextId, ctx);
      liveContexts.add(ctx);
      return ctx;
    };

    const generate = (ctx: LiveContext) => {
      if (ctx.buffer === '') return;
      ctx.pending.push({ text: ctx.buffer, readyAt: nowMs() });
      ctx.buffer = '';
      ctx.generations++;
      void pump(ctx);
    };

    const finish = (ctx: LiveContext) => {
      active.delete(ctx.rec.contextId);
      liveContexts.delete(ctx);
    };

    /** Sends a context's audio in order, paced at the profile's real-time factor, then isFinal once closed. */
    const pump = async (ctx: LiveContext) => {
      if (ctx.pumping) return;
      ctx.pumping = true;
      try {
        while (ctx.pending.length > 0) {
          const seg = ctx.pending.shift();
          if (!seg) break;
          const lead = ctx.samplesSent === 0 ? Math.round((LEADING_SILENCE_MS * params.rate) / 1000) : 0;
          for (const chunk of renderText(seg.text, params.rate, lead)) {
            const target =
              ctx.nextSendAt === null
                ? Math.max((ctx.rec.firstTextAt ?? seg.readyAt) + ctx.ttfbMs, seg.readyAt)
                : Math.max(ctx.nextSendAt, seg.readyAt);
            await waitUntil(target, ctx.abort.signal);
            if (ctx.abort.signal.aborted) return;
            const align = alignment(chunk, params.rate);
            const at = nowMs();
            const sent = send({
              audio: chunk.pcm.toString('base64'),
              normalizedAlignment: align,
              alignment: align,
              contextId: ctx.rec.contextId,
            });
            if (!sent) return;
            ctx.rec.firstAudioAt ??= at;
            ctx.rec.audioChunks.push({ at, bytes: chunk.pcm.length });
            const samples = chunk.pcm.length / 2;
            ctx.samplesSent += samples;
            ctx.nextSendAt = target + (samples * 1000) / params.rate / rtf;
          }
        }
        if (ctx.closing && ctx.rec.finalSentAt === null) {
          const at = nowMs();
          if (send({ isFinal: true, contextId: ctx.rec.contextId })) ctx.rec.finalSentAt = at;
          finish(ctx);
        }
      } finally {
        ctx.pumping = false;
      }
    };

    const onMessage = (msg: ClientMessage) => {
      if (msg.close_socket === true) {
        ws.close(1000);
        return;
      }
      const contextId = msg.context_id;
      const text = typeof msg.text === 'string' ? msg.text : null;
      if (typeof contextId !== 'string' || contextId === '') {
        // A context-less `{"text": ""}` is a keep-alive.
        if (text !== '') send({ error: 'context_id is required on multi-stream-input' });
        return;
      }
      let ctx = active.get(contextId);
      if (!ctx) {
        if (msg.close_context === true) return;
        if (failed.has(contextId)) {
          if (text !== ' ') return;
          failed.delete(contextId);
        }
        const opened = open(contextId, msg);
        if (!opened) return;
        ctx = opened;
        // The opening message's " " initialises the context; it is not spoken.
        if (text !== null && text.trim() === '') {
          ctx.rec.text += text;
          return;
        }
      }
      if (ctx.closing) return;
      if (text !== null && text !== '') {
        const now = nowMs();
        ctx.rec.text += text;
        if (ctx.rec.firstTextAt === null && text.trim() !== '') ctx.rec.firstTextAt = now;
        ctx.buffer += text;
        const threshold = ctx.schedule[Math.min(ctx.generations, ctx.schedule.length - 1)] ?? 0;
        // auto_mode: the client sends whole sentences or phrases, so each is generated at once.
        if (msg.flush === true || params.autoMode || ctx.buffer.length >= threshold) generate(ctx);
      } else if (msg.flush === true) {
        generate(ctx);
      }
      if (msg.close_context === true) {
        ctx.closing = true;
        ctx.rec.closedAt = nowMs();
        ctx.rec.closedByClient = true;
        generate(ctx);
        void pump(ctx);
      }
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      let msg: unknown;
      try {
        msg = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        msg = undefined;
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
        ws.close(1008, 'invalid message');
        return;
      }
      onMessage(msg);
    });

    ws.on('close', () => {
      for (const ctx of active.values()) {
        ctx.abort.abort();
        liveContexts.delete(ctx);
      }
      active.clear();
    });
  }

  async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL, voiceId: string): Promise<void> {
    const entry: RequestLogEntry = {
      at: nowMs(),
      method: 'POST',
      path: url.pathname,
      query: queryObject(url),
      voiceId,
      status: 0,
      firstByteAt: null,
      chunks: [] as AudioChunkRecord[],
      endedAt: null,
    };
    requests.push(entry);
    const fail = (status: number, code: string, message: string) => {
      entry.status = status;
      entry.endedAt = nowMs();
      res.writeHead(status, { 'content-type': 'application/json' }).end(errorBody(code, message));
    };
    const raw: Buffer[] = [];
    for await (const part of req) raw.push(part as Buffer);
    if (!authorized(req)) return fail(401, 'invalid_api_key', 'Invalid API key');
    let body: { text?: unknown; model_id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(raw).toString('utf8')) as typeof body;
      entry.body = body;
    } catch {
      return fail(400, 'invalid_json', 'request body is not JSON');
    }
    const outputFormat = url.searchParams.get('output_format') ?? '';
    const rate = pcmRate(outputFormat);
    if (rate === null) return fail(400, 'invalid_output_format', `unsupported output_format ${outputFormat}`);
    const problem = modelProblem(typeof body.model_id === 'string' ? body.model_id : null);
    if (problem !== null) return fail(400, 'invalid_model', problem);
    if (typeof body.text !== 'string' || body.text.trim() === '') return fail(400, 'invalid_text', 'text is required');

    const abort = new AbortController();
    res.on('close', () => abort.abort());
    req.socket.setNoDelay(true);
    const chunks = renderText(body.text, rate, Math.round((LEADING_SILENCE_MS * rate) / 1000));
    let target = entry.at + draw(profile.elevenlabs.ttfb);
    for (const chunk of chunks) {
      await waitUntil(target, abort.signal);
      if (abort.signal.aborted) return;
      if (entry.status === 0) {
        entry.status = 200;
        res.writeHead(200, { 'content-type': 'audio/pcm', 'request-id': `sim-${requests.length}` });
      }
      const at = nowMs();
      res.write(chunk.pcm);
      entry.firstByteAt ??= at;
      (entry.chunks as AudioChunkRecord[]).push({ at, bytes: chunk.pcm.length });
      target += ((chunk.pcm.length / 2 / rate) * 1000) / rtf;
    }
    entry.endedAt = nowMs();
    res.end();
  }

  const listening = await listen(server, opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${listening.port}/v1`,
    requests,
    contexts,
    failNextContext(message: string) {
      failures.push(message);
    },
    async close() {
      for (const ctx of liveContexts) ctx.abort.abort();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await listening.close();
    },
  };
}

if (import.meta.main) {
  await serveFromCommandLine('elevenlabs', [], (common) => startElevenLabsStandIn(common));
}
