/**
 * What the Deepgram stand-in records of each connection and utterance, for tests and the bench to
 * check the plugin's behaviour and their own measurements against.
 */
import { type RequestLogEntry, nowMs } from '../server.ts';

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

export function logEntry(method: string, url: URL, requestId: string, status: number): DeepgramConnectionLog {
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
