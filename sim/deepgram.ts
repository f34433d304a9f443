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
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { type LatencyProfile, profiles, sampler, seededRandom } from './profile.ts';
import { type StandIn, listen } from './server.ts';
import { Connection, type Shared } from './deepgram/connection.ts';
import {
  type DeepgramConnectionLog,
  type ScriptedTranscript,
  type UtteranceRecord,
  logEntry,
} from './deepgram/records.ts';
import { checkRequest, rejectUpgrade } from './deepgram/request.ts';

export type { DeepgramConnectionLog, ScriptedTranscript, SentMessage, UtteranceRecord } from './deepgram/records.ts';

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
