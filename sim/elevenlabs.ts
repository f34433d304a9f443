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
import { WebSocketServer, type WebSocket } from 'ws';
import { profiles, sampler, seededRandom, type LatencyProfile } from './profile.ts';
import { listen, nowMs, type RequestLogEntry, type StandIn } from './server.ts';
import { LEADING_SILENCE_MS, renderText } from './elevenlabs/voice.ts';
import {
  serveSocket,
  waitUntil,
  type AudioChunkRecord,
  type ContextRecord,
  type LiveContext,
  type SocketParams,
} from './elevenlabs/socket.ts';

export { speechMs } from './elevenlabs/voice.ts';
export type { AudioChunkRecord, ContextRecord } from './elevenlabs/socket.ts';

export interface ElevenLabsStandInOptions {
  profile?: LatencyProfile;
  seed?: number;
  port?: number;
  /** When set, requests must carry it in `xi-api-key`. */
  apiKey?: string;
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

function errorBody(status: string, message: string): string {
  return JSON.stringify({ detail: { status, message } });
}

function queryObject(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
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
      serveSocket(ws, params, {
        contexts,
        failures,
        liveContexts,
        drawTtfbMs: () => draw(profile.elevenlabs.ttfb),
        realtimeFactor: rtf,
      });
    });
  });

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
