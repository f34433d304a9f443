/**
 * Deepgram live transcription stand-in (`wss://api.deepgram.com/v1/listen`), speaking the wire
 * protocol `@livekit/agents-plugin-deepgram@1.9.0` sends and parses. It really listens: speech
 * start and end come from the energy of the PCM received (see speech-detector.ts), in audio time;
 * the words come from a script, because there is no recogniser here.
 *
 * Timing model:
 * - `SpeechStarted` goes out when the audio that confirms speech arrives (~60 ms into speech);
 * - interim `Results` every `interimInterval` while speech continues, revealing the scripted words
 *   at a speaking rate, never the whole transcript;
 * - the final `Results` (`is_final` and `speech_final`) goes out `endpointing` after the wall time
 *   the first trailing-silence audio arrived, but never before the detector has seen enough
 *   silence to decide (its hangover), since a service cannot know earlier either;
 * - `UtteranceEnd` follows the final only when the client asked for `utterance_end_ms`, as with
 *   Deepgram (the plugin does not by default: `speech_final` is what ends its speech turn).
 */
import { serveFromCommandLine } from './cli.ts';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { type LatencyProfile, profiles, sampler, seededRandom } from './profile.ts';
import { type RequestLogEntry, type StandIn, listen, nowMs } from './server.ts';
import { SpeechDetector, defaultSpeechDetectorOptions } from './speech-detector.ts';

export interface DeepgramStandInOptions {
  /** Default: `published`. */
  profile?: LatencyProfile;
  /** Seeds the latency draws and word confidences. Default 1. */
  seed?: number;
  port?: number;
  /** When set, connections must carry `Authorization: Token <apiKey>` (else HTTP 401). */
  apiKey?: string;
  /** The Nth utterance detected gets the Nth transcript; see `setTranscripts`. */
  transcripts?: ScriptedTranscript[];
  /**
   * `stand-in` (default): one script for the stand-in's lifetime, continued across connections,
   * empty finals past its end. `connection`: every new `/v1/listen` connection starts the script
   * again from its first entry, and past the end it starts over, so every call (a local
   * conversation's second call, say) hears the whole script and never an empty final.
   */
  scriptScope?: 'stand-in' | 'connection';
}

export interface UtteranceRecord {
  /** Index of the connection's entry in `requests`. */
  connection: number;
  /** Scripted transcript; '' when the script had none (an empty final is sent). */
  transcript: string;
  speechStartAudioMs: number;
  speechEndAudioMs: number | null;
  /** Wall time the audio holding the speech start arrived. */
  speechStartReceivedAt: number;
  /** Null when the client did not ask for `vad_events`. */
  speechStartedSentAt: number | null;
  /** Wall time the first trailing-silence audio arrived (or the flush/idle moment that ended speech). */
  speechEndReceivedAt: number | null;
  interimSentAt: number[];
  finalSentAt: number | null;
  /** Only sent when the client asked for `utterance_end_ms` and the final had words. */
  utteranceEndSentAt: number | null;
  endedBy: 'silence' | 'finalize' | 'close' | 'idle' | null;
  fromFinalize: boolean;
}

export interface SentMessage {
  type: 'SpeechStarted' | 'Results' | 'UtteranceEnd' | 'Metadata';
  at: number;
  isFinal?: boolean;
  transcript?: string;
}

/**
 * What one utterance says. A recording with a pause inside a sentence gives its parts and where
 * each is spoken (ms from the start of its speech): when the audio's speech ends at a pause (the
 * detector's hangover is shorter than the pause), the final holds only the parts spoken so far,
 * and the next utterance detected continues with the rest, as Deepgram would transcribe it.
 */
export type ScriptedTranscript = string | { parts: { text: string; startMs: number; endMs: number }[] };

/** How far past a part's end the speech may run and still count that part as spoken. */
const PART_END_TOLERANCE_MS = 150;

export interface DeepgramConnectionLog extends RequestLogEntry {
  /** 'WS' for upgrade requests; plain HTTP requests are logged (and refused) too. */
  method: string;
  query: Record<string, string | string[]>;
  /** 101 when upgraded, else the HTTP status of the rejection. */
  status: number;
  requestId: string;
  /** Running totals of the PCM received. */
  audioBytes: number;
  audioMs: number;
  /** Text messages received (`KeepAlive`, `Finalize`, `CloseStream`, anything else). */
  control: { type: string; at: number }[];
  sent: SentMessage[];
  closedAt: number | null;
  closeCode: number | null;
}

export interface DeepgramStandIn extends StandIn {
  /** `ws://127.0.0.1:PORT`: the plugin's `baseUrl` (it appends `/v1/listen?...`). */
  url: string;
  requests: DeepgramConnectionLog[];
  /**
   * Replaces the script and restarts it: the Nth utterance detected from now on (across all
   * connections) gets `t[N]`; past the end, or for an empty entry, the final is empty, as
   * Deepgram's is for noise. Under `scriptScope: 'connection'`, connections opened from now on
   * each start the new script from its beginning.
   */
  setTranscripts(t: ScriptedTranscript[]): void;
  utterances: UtteranceRecord[];
}

/** Interim words are revealed at this rate (espeak at 160 wpm says ~2.8 words/s). */
const WORDS_PER_SECOND = 2.8;
/** Ends speech when a client stops sending audio mid-utterance (a mute, a dropped track). */
const IDLE_END_MS = 1000;
/** Deepgram closes a stream that sends neither audio nor a text message for 10 s (NET-0001). */
const INACTIVITY_CLOSE_MS = 10_000;
const MIN_INTERIM_GAP_MS = 20;

interface Word {
  word: string;
  start: number;
  end: number;
  confidence: number;
  punctuated_word?: string;
}

interface Token {
  word: string;
  punctuated: string;
}

interface Shared {
  utterances: UtteranceRecord[];
  nextTranscript(): ScriptedTranscript;
  /** Puts the unspoken rest of a paused utterance first in line for the next utterance. */
  continueWith(rest: ScriptedTranscript): void;
  endpointingMs(): number;
  interimMs(): number;
  confidence(): number;
}

interface StreamParams {
  model: string;
  sampleRate: number;
  channels: number;
  interimResults: boolean;
  vadEvents: boolean;
  /** `endpointing=false` turns `speech_final` off; a number (ms) is the silence Deepgram waits for. */
  endpointing: number | false;
  utteranceEnd: boolean;
  /** `punctuate` or `smart_format`: formatted transcript and `punctuated_word`. */
  formatted: boolean;
}

export async function startDeepgramStandIn(opts: DeepgramStandInOptions = {}): Promise<DeepgramStandIn> {
  const profile = opts.profile ?? profiles.published;
  const seed = opts.seed ?? 1;
  const draw = sampler(seededRandom(seed));
  const wordRand = seededRandom(seed + 1);
  let script = [...(opts.transcripts ?? [])];
  let cursor = 0;
  const requests: DeepgramConnectionLog[] = [];
  const utterances: UtteranceRecord[] = [];
  const shared: Shared = {
    utterances,
    nextTranscript: () => script[cursor++] ?? '',
    continueWith: (rest) => void script.splice(cursor, 0, rest),
    endpointingMs: () => draw(profile.deepgram.endpointing),
    interimMs: () => draw(profile.deepgram.interimInterval),
    confidence: () => 0.9 + 0.0999 * wordRand(),
  };
  /** A script of the connection's own: from the first entry, starting over past the end. */
  const perConnection = (): Shared => {
    const base = [...script];
    let own = [...base];
    let at = 0;
    return {
      ...shared,
      nextTranscript: () => {
        if (at >= own.length) {
          own = [...base];
          at = 0;
        }
        return own[at++] ?? '';
      },
      continueWith: (rest) => void own.splice(at, 0, rest),
    };
  };

  const connections = new Set<Connection>();
  const requestIds = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({ noServer: true });
  wss.on('headers', (headers, req) => {
    const id = requestIds.get(req);
    if (id) headers.push(`dg-request-id: ${id}`);
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const entry = logEntry(req.method ?? 'GET', url, randomUUID(), 404);
    entry.closedAt = entry.at;
    requests.push(entry);
    // Only live streaming is simulated; pre-recorded `POST /v1/listen` is not.
    res
      .writeHead(404, { 'Content-Type': 'application/json' })
      .end(
        JSON.stringify({ err_code: 'NOT_FOUND', err_msg: 'This stand-in serves only the live WebSocket /v1/listen.' }),
      );
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const requestId = randomUUID();
    const entry = logEntry('WS', url, requestId, 0);
    requests.push(entry);
    const index = requests.length - 1;
    const checked = checkRequest(req, url, opts.apiKey);
    if ('status' in checked) {
      entry.status = checked.status;
      entry.closedAt = entry.at;
      rejectUpgrade(socket, checked.status, { ...checked.body, request_id: requestId }, requestId);
      return;
    }
    requestIds.set(req, requestId);
    wss.handleUpgrade(req, socket, head, (ws) => {
      entry.status = 101;
      const conn = new Connection(
        ws,
        index,
        entry,
        checked,
        opts.scriptScope === 'connection' ? perConnection() : shared,
      );
      connections.add(conn);
      ws.once('close', () => connections.delete(conn));
    });
  });

  const listening = await listen(server, opts.port ?? 0);
  return {
    url: `ws://127.0.0.1:${listening.port}`,
    requests,
    utterances,
    setTranscripts(t) {
      script = [...t];
      cursor = 0;
    },
    async close() {
      for (const c of connections) c.dispose();
      wss.close();
      await listening.close();
    },
  };
}

function logEntry(method: string, url: URL, requestId: string, status: number): DeepgramConnectionLog {
  return {
    at: nowMs(),
    method,
    path: url.pathname,
    query: queryRecord(url.searchParams),
    status,
    requestId,
    audioBytes: 0,
    audioMs: 0,
    control: [],
    sent: [],
    closedAt: null,
    closeCode: null,
  };
}

function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

type Checked = StreamParams | { status: number; body: { err_code: string; err_msg: string } };

/** Rejects what Deepgram rejects at upgrade time, with its error body shape. */
function checkRequest(req: IncomingMessage, url: URL, apiKey: string | undefined): Checked {
  const bad = (err_msg: string): Checked => ({ status: 400, body: { err_code: 'Bad Request', err_msg } });
  if (url.pathname !== '/v1/listen') {
    return { status: 404, body: { err_code: 'NOT_FOUND', err_msg: `No such endpoint: ${url.pathname}` } };
  }
  if (apiKey !== undefined) {
    const auth = req.headers.authorization ?? '';
    const m = /^token\s+(.+)$/i.exec(auth);
    if (!m || m[1] !== apiKey) {
      return { status: 401, body: { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.' } };
    }
  }
  const q = url.searchParams;
  const model = q.get('model') ?? '';
  if (!model) return bad('A model is required (model=...).');
  // Raw PCM only: Deepgram would also sniff containerised audio, which the stand-in cannot decode.
  if (q.get('encoding') !== 'linear16')
    return bad(`Unsupported encoding "${q.get('encoding') ?? ''}": this stand-in takes linear16.`);
  const sampleRate = Number(q.get('sample_rate'));
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 96000) {
    return bad('sample_rate must be an integer (Hz) when encoding is set.');
  }
  const channels = Number(q.get('channels') ?? '1');
  if (!Number.isInteger(channels) || channels < 1 || channels > 8)
    return bad('channels must be an integer from 1 to 8.');
  const endpointingRaw = q.get('endpointing');
  let endpointing: number | false = 10;
  if (endpointingRaw === 'false') endpointing = false;
  else if (endpointingRaw !== null && endpointingRaw !== 'true') {
    endpointing = Number(endpointingRaw);
    if (!Number.isFinite(endpointing) || endpointing < 0) return bad('endpointing must be false or a number of ms.');
  }
  const flag = (name: string) => q.get(name) === 'true';
  return {
    model,
    sampleRate,
    channels,
    interimResults: flag('interim_results'),
    vadEvents: flag('vad_events'),
    endpointing,
    utteranceEnd: q.has('utterance_end_ms'),
    formatted: flag('punctuate') || flag('smart_format'),
  };
}

function rejectUpgrade(socket: Duplex, status: number, body: object, requestId: string): void {
  const text = JSON.stringify(body);
  // A client that hangs up first must not take the stand-in down.
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      `dg-request-id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}

interface Utterance {
  record: UtteranceRecord;
  script: ScriptedTranscript;
  tokens: Token[];
  /** Audio ms covered by the last interim, so an interim goes out only for new audio. */
  lastInterimAudioMs: number;
}

interface PendingFinal {
  utterance: Utterance;
  /** Audio ms the final's segment runs to. */
  coverEndMs: number;
  timer: NodeJS.Timeout | undefined;
}

/** One `/v1/listen` stream. */
class Connection {
  readonly #ws: WebSocket;
  readonly #index: number;
  readonly #log: DeepgramConnectionLog;
  readonly #params: StreamParams;
  readonly #shared: Shared;
  readonly #detector: SpeechDetector;
  readonly #metadata: { request_id: string; model_info: Omit<ModelInfo, 'uuid'>; model_uuid: string };
  readonly #hash: Hash = createHash('sha256');
  readonly #created = new Date().toISOString();
  /** When each received chunk's last sample arrived, to map audio time to wall time. */
  #chunks: { endMs: number; at: number }[] = [];
  /** Start (audio s) of the next Results segment: Deepgram's segments tile the audio. */
  #segmentStartS = 0;
  #current: Utterance | null = null;
  #pending: PendingFinal | null = null;
  #interimTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #inactivityTimer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(ws: WebSocket, index: number, log: DeepgramConnectionLog, params: StreamParams, shared: Shared) {
    this.#ws = ws;
    this.#index = index;
    this.#log = log;
    this.#params = params;
    this.#shared = shared;
    this.#detector = new SpeechDetector(params.sampleRate, params.channels, {
      // Deepgram waits for `endpointing` ms of silence; the energy detector needs its own hangover
      // to ride over pauses inside a sentence, so it waits for whichever is longer.
      hangoverMs: Math.max(defaultSpeechDetectorOptions.hangoverMs, params.endpointing || 0),
    });
    const { uuid, ...info } = modelInfo(params.model);
    this.#metadata = { request_id: log.requestId, model_info: info, model_uuid: uuid };
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', (code) => {
      log.closedAt = nowMs();
      log.closeCode = code;
      this.#clearTimers();
    });
    ws.on('error', () => ws.terminate());
    this.#armInactivity();
  }

  dispose(): void {
    this.#clearTimers();
    this.#ws.terminate();
  }

  get #audioMs(): number {
    return (this.#log.audioBytes / (2 * this.#params.channels * this.#params.sampleRate)) * 1000;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const at = nowMs();
    this.#armInactivity();
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) this.#onAudio(buf, at);
    else this.#onControl(buf.toString('utf8'), at);
  }

  #onAudio(pcm: Buffer, at: number): void {
    // Deepgram ignores audio after CloseStream.
    if (this.#closing) return;
    this.#hash.update(pcm);
    this.#log.audioBytes += pcm.length;
    this.#log.audioMs = this.#audioMs;
    this.#chunks.push({ endMs: this.#audioMs, at });
    while (this.#chunks.length > 1 && this.#chunks[0]!.endMs < this.#audioMs - 60_000) this.#chunks.shift();

    for (const ev of this.#detector.push(pcm)) {
      if (ev.type === 'start') this.#startUtterance(ev.audioMs, this.#receivedAt(ev.audioMs));
      else this.#endUtterance(ev.audioMs, this.#receivedAt(ev.audioMs), 'silence', ev.decidedAtAudioMs);
    }
    if (this.#current) this.#armIdle();
  }

  #onControl(text: string, at: number): void {
    let type = 'invalid';
    try {
      const msg: unknown = JSON.parse(text);
      if (msg && typeof msg === 'object' && 'type' in msg && typeof msg.type === 'string') type = msg.type;
    } catch {
      // Logged as 'invalid' below and otherwise ignored.
    }
    this.#log.control.push({ type, at });
    if (type === 'Finalize') this.#forceEnd('finalize');
    else if (type === 'CloseStream') this.#closeStream();
  }

  /** Wall time the audio at `audioMs` arrived: when the chunk holding it did. */
  #receivedAt(audioMs: number): number {
    for (const c of this.#chunks) if (c.endMs > audioMs) return c.at;
    return this.#chunks.at(-1)?.at ?? nowMs();
  }

  #startUtterance(audioMs: number, receivedAt: number): void {
    // A final still waiting for its endpointing delay goes first, keeping messages in order.
    this.#flushPending(false);
    const script = this.#shared.nextTranscript();
    const transcript = scriptText(script);
    const record: UtteranceRecord = {
      connection: this.#index,
      transcript,
      speechStartAudioMs: audioMs,
      speechEndAudioMs: null,
      speechStartReceivedAt: receivedAt,
      speechStartedSentAt: null,
      speechEndReceivedAt: null,
      interimSentAt: [],
      finalSentAt: null,
      utteranceEndSentAt: null,
      endedBy: null,
      fromFinalize: false,
    };
    this.#shared.utterances.push(record);
    this.#current = { record, script, tokens: tokenize(transcript), lastInterimAudioMs: audioMs };
    if (this.#params.vadEvents) {
      record.speechStartedSentAt = this.#send({ type: 'SpeechStarted', channel: [0, 1], timestamp: sec(audioMs) });
    }
    if (this.#params.interimResults) this.#scheduleInterim();
  }

  #scheduleInterim(): void {
    clearTimeout(this.#interimTimer);
    this.#interimTimer = setTimeout(
      () => {
        if (!this.#current) return;
        this.#sendInterim(this.#current);
        this.#scheduleInterim();
      },
      Math.max(MIN_INTERIM_GAP_MS, this.#shared.interimMs()),
    );
  }

  #sendInterim(u: Utterance): void {
    const nowAudio = this.#detector.analysedMs;
    if (nowAudio <= u.lastInterimAudioMs) return;
    u.lastInterimAudioMs = nowAudio;
    const startMs = u.record.speechStartAudioMs;
    const heard = Math.floor(((nowAudio - startMs) / 1000) * WORDS_PER_SECOND);
    const shown = Math.min(heard, u.tokens.length - 1);
    if (shown <= 0) return;
    const words = this.#words(u.tokens.slice(0, shown), startMs, nowAudio);
    u.record.interimSentAt.push(this.#send(this.#results(words, nowAudio, false, false)));
  }

  /** Speech is over at `endMs`; the final waits for the endpointing delay unless flushed. */
  #endUtterance(
    endMs: number,
    endReceivedAt: number,
    endedBy: NonNullable<UtteranceRecord['endedBy']>,
    coverEndMs: number,
  ): void {
    const u = this.#current;
    if (!u) return;
    this.#current = null;
    clearTimeout(this.#interimTimer);
    clearTimeout(this.#idleTimer);
    u.record.speechEndAudioMs = endMs;
    u.record.speechEndReceivedAt = endReceivedAt;
    u.record.endedBy = endedBy;
    if (endedBy === 'finalize' || endedBy === 'close') {
      this.#sendFinal(u, coverEndMs, endedBy === 'finalize');
      return;
    }
    const pending: PendingFinal = { utterance: u, coverEndMs, timer: undefined };
    const dueAt = endReceivedAt + this.#shared.endpointingMs();
    // Node timers count from the event loop's cached clock and can fire a little early: re-arm
    // until the delay has really passed, so the final never beats the profile.
    const arm = () => {
      const left = dueAt - nowMs();
      if (left > 0) pending.timer = setTimeout(arm, Math.ceil(left));
      else this.#flushPending(false);
    };
    this.#pending = pending;
    arm();
  }

  #flushPending(fromFinalize: boolean): void {
    const p = this.#pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending = null;
    this.#sendFinal(p.utterance, p.coverEndMs, fromFinalize);
  }

  /** Ends what is under way now: a final still waiting for its delay, then speech in progress. */
  #forceEnd(reason: 'finalize' | 'close' | 'idle'): void {
    this.#flushPending(reason === 'finalize');
    const end = this.#detector.forceEnd();
    if (end !== null) this.#endUtterance(end, this.#receivedAt(end), reason, this.#audioMs);
  }

  #closeStream(): void {
    this.#forceEnd('close');
    this.#closing = true;
    this.#send({
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: this.#metadata.request_id,
      sha256: this.#hash.digest('hex'),
      created: this.#created,
      duration: sec(this.#audioMs),
      channels: this.#params.channels,
      models: [this.#metadata.model_uuid],
      model_info: {
        [this.#metadata.model_uuid]: {
          name: this.#metadata.model_info.name,
          version: this.#metadata.model_info.version,
          arch: this.#metadata.model_info.arch,
        },
      },
    });
    this.#clearTimers();
    this.#ws.close(1000);
  }

  #sendFinal(u: Utterance, coverEndMs: number, fromFinalize: boolean): void {
    const endMs = u.record.speechEndAudioMs ?? coverEndMs;
    this.#cutAtPause(u, endMs - u.record.speechStartAudioMs);
    const words = this.#words(u.tokens, u.record.speechStartAudioMs, endMs);
    const transcript = this.#params.formatted
      ? u.tokens.map((t) => t.punctuated).join(' ')
      : words.map((w) => w.word).join(' ');
    const msg = this.#results(words, coverEndMs, true, this.#params.endpointing !== false, fromFinalize, transcript);
    u.record.finalSentAt = this.#send(msg);
    u.record.fromFinalize = fromFinalize;
    this.#segmentStartS = sec(coverEndMs);
    const last = words.at(-1);
    if (this.#params.utteranceEnd && last) {
      u.record.utteranceEndSentAt = this.#send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: last.end });
    }
  }

  /** A paused utterance whose speech ended early keeps the parts spoken; the rest comes next. */
  #cutAtPause(u: Utterance, spokenMs: number): void {
    if (typeof u.script === 'string') return;
    const parts = u.script.parts;
    const spoken = parts.filter((p) => p.endMs <= spokenMs + PART_END_TOLERANCE_MS);
    if (spoken.length === 0 || spoken.length === parts.length) return;
    const rest = parts.slice(spoken.length);
    const shift = rest[0]?.startMs ?? 0;
    this.#shared.continueWith({
      parts: rest.map((p) => ({ text: p.text, startMs: p.startMs - shift, endMs: p.endMs - shift })),
    });
    u.record.transcript = spoken.map((p) => p.text).join(' ');
    u.tokens = tokenize(u.record.transcript);
  }

  #results(
    words: Word[],
    coverEndMs: number,
    isFinal: boolean,
    speechFinal: boolean,
    fromFinalize = false,
    transcript?: string,
  ): Record<string, unknown> {
    const text =
      transcript ??
      (this.#params.formatted ? words.map((w) => w.punctuated_word).join(' ') : words.map((w) => w.word).join(' '));
    const confidence = words.length ? round(words.reduce((a, w) => a + w.confidence, 0) / words.length, 8) : 0;
    return {
      type: 'Results',
      channel_index: [0, 1],
      duration: round(Math.max(0, sec(coverEndMs) - this.#segmentStartS), 3),
      start: this.#segmentStartS,
      is_final: isFinal,
      speech_final: speechFinal,
      channel: { alternatives: [{ transcript: text, confidence, words }] },
      metadata: this.#metadata,
      from_finalize: fromFinalize,
    };
  }

  /** Lays words over [startMs, endMs] in proportion to their length, with a short gap after each. */
  #words(tokens: Token[], startMs: number, endMs: number): Word[] {
    const weights = tokens.map((t) => t.word.length + 1);
    const total = weights.reduce((a, b) => a + b, 0);
    const span = Math.max(0, endMs - startMs);
    let acc = 0;
    return tokens.map((t, i) => {
      const w = weights[i]!;
      const start = startMs + (acc / total) * span;
      acc += w;
      const end = startMs + (acc / total) * span - Math.min(40, (w / total) * span * 0.1);
      const word: Word = {
        word: t.word,
        start: sec(start),
        end: sec(end),
        confidence: round(this.#shared.confidence(), 8),
      };
      if (this.#params.formatted) word.punctuated_word = t.punctuated;
      return word;
    });
  }

  #send(msg: Record<string, unknown>): number {
    const at = nowMs();
    const entry: SentMessage = { type: msg['type'] as SentMessage['type'], at };
    if (msg['type'] === 'Results') {
      entry.isFinal = msg['is_final'] === true;
      const alt = (msg['channel'] as { alternatives: { transcript: string }[] }).alternatives[0];
      if (alt) entry.transcript = alt.transcript;
    }
    this.#log.sent.push(entry);
    this.#ws.send(JSON.stringify(msg));
    return at;
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#forceEnd('idle'), IDLE_END_MS);
  }

  #armInactivity(): void {
    clearTimeout(this.#inactivityTimer);
    this.#inactivityTimer = setTimeout(() => {
      this.#clearTimers();
      this.#ws.close(
        1011,
        'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001',
      );
    }, INACTIVITY_CLOSE_MS);
  }

  #clearTimers(): void {
    clearTimeout(this.#interimTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#inactivityTimer);
    if (this.#pending) clearTimeout(this.#pending.timer);
  }
}

interface ModelInfo {
  name: string;
  version: string;
  arch: string;
  uuid: string;
}

function modelInfo(model: string): ModelInfo {
  const arch = /^nova-3/.test(model) ? 'nova-3' : /^nova-2/.test(model) ? 'nova-2' : model;
  // A stable UUID per model, as Deepgram's are; derived, since the real ones are not published.
  const h = createHash('sha256').update(model).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return { name: `general-${arch}`, version: 'stand-in', arch, uuid };
}

function scriptText(script: ScriptedTranscript): string {
  return typeof script === 'string' ? script : script.parts.map((p) => p.text).join(' ');
}

function tokenize(transcript: string): Token[] {
  return transcript
    .trim()
    .split(/\s+/)
    .map((punctuated) => ({ punctuated, word: punctuated.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '') }))
    .filter((t) => t.word.length > 0);
}

function sec(ms: number): number {
  return round(ms / 1000, 3);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (import.meta.main) {
  await serveFromCommandLine('deepgram', ['transcripts', 'script-scope'], (common, extra) => {
    const scope = extra['script-scope'];
    if (scope !== undefined && scope !== 'stand-in' && scope !== 'connection') {
      throw new Error(`--script-scope must be stand-in or connection, not ${JSON.stringify(scope)}`);
    }
    return startDeepgramStandIn({
      ...common,
      ...(extra.transcripts !== undefined ? { transcripts: extra.transcripts.split('|') } : {}),
      ...(scope !== undefined ? { scriptScope: scope } : {}),
    });
  });
}
