/**
 * A `/v1/listen` upgrade as Deepgram checks it: the path, the key, and the query parameters the
 * stream needs (model, linear16 encoding, sample rate, channels, endpointing), refused with
 * Deepgram's error body shape.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface StreamParams {
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

export type Checked = StreamParams | { status: number; body: { err_code: string; err_msg: string } };

/** Rejects what Deepgram rejects at upgrade time, with its error body shape. */
export function checkRequest(req: IncomingMessage, url: URL, apiKey: string | undefined): Checked {
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

export function rejectUpgrade(socket: Duplex, status: number, body: object, requestId: string): void {
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
