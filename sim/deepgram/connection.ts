/**
 * One `/v1/listen` stream of the Deepgram stand-in: PCM in, speech start and end from its energy
 * (speech-detector.ts), interim and final `Results` with the scripted words, `SpeechStarted`,
 * `UtteranceEnd`, `Metadata` on `CloseStream`, and Deepgram's idle and inactivity rules.
 */
import { createHash, type Hash } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { nowMs } from '../server.ts';
import { SpeechDetector, defaultSpeechDetectorOptions } from '../speech-detector.ts';
import type { DeepgramConnectionLog, ScriptedTranscript, SentMessage, UtteranceRecord } from './records.ts';
import type { StreamParams } from './request.ts';
import {
  type ResultsMetadata,
  type Token,
  type Word,
  cutAtPause,
  layWords,
  metadataMessage,
  modelInfo,
  resultsMessage,
  round,
  scriptText,
  sec,
  tokenize,
} from './transcript.ts';

/** Interim words are revealed at this rate (espeak at 160 wpm says ~2.8 words/s). */
const WORDS_PER_SECOND = 2.8;
/** Ends speech when a client stops sending audio mid-utterance (a mute, a dropped track). */
const IDLE_END_MS = 1000;
/** Deepgram closes a stream that sends neither audio nor a text message for 10 s (NET-0001). */
const INACTIVITY_CLOSE_MS = 10_000;
const MIN_INTERIM_GAP_MS = 20;

export interface Shared {
  utterances: UtteranceRecord[];
  nextTranscript(): ScriptedTranscript;
  /** Puts the unspoken rest of a paused utterance first in line for the next utterance. */
  continueWith(rest: ScriptedTranscript): void;
  endpointingMs(): number;
  interimMs(): number;
  confidence(): number;
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
export class Connection {
  readonly #ws: WebSocket;
  readonly #index: number;
  readonly #log: DeepgramConnectionLog;
  readonly #params: StreamParams;
  readonly #shared: Shared;
  readonly #detector: SpeechDetector;
  readonly #metadata: ResultsMetadata;
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
    this.#send(
      metadataMessage(this.#metadata, {
        sha256: this.#hash.digest('hex'),
        created: this.#created,
        durationS: sec(this.#audioMs),
        channels: this.#params.channels,
      }),
    );
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
    const cut = cutAtPause(u.script, spokenMs);
    if (!cut) return;
    this.#shared.continueWith(cut.rest);
    u.record.transcript = cut.spoken;
    u.tokens = tokenize(cut.spoken);
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
    return resultsMessage({
      words,
      text,
      startS: this.#segmentStartS,
      endS: sec(coverEndMs),
      isFinal,
      speechFinal,
      fromFinalize,
      metadata: this.#metadata,
    });
  }

  #words(tokens: Token[], startMs: number, endMs: number): Word[] {
    return layWords(tokens, startMs, endMs, this.#params.formatted, () => round(this.#shared.confidence(), 8));
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
