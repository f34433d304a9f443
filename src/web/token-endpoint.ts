/**
 * `POST /api/token`: one request in, one answer out, with no HTTP server involved, so that every
 * refusal is tested directly. The server (`server.ts`) only reads the request and writes the answer.
 *
 * The token is the one `npm run token` mints (`mintJoinToken`): join that room, publish, subscribe,
 * publish data, and dispatch of the worker's LIVEKIT_AGENT_NAME when one is set.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { clientUrl, mintJoinToken } from '../cli/token.ts';
import { parseTokenRequest, Refusal, type TokenRequest } from './token-request.ts';

/** A standard request is a few hundred bytes; this leaves room for long names and nothing else. */
export const maxBodyBytes = 16 * 1024;

export interface TokenEndpointOptions {
  /** LIVEKIT_URL, as given; answered in its ws(s) form. */
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
  agentName?: string;
  /** WEB_AUTH_TOKEN: when set, every request must carry it as a bearer token. */
  authToken?: string;
}

export interface EndpointRequest {
  method: string;
  authorization?: string;
  contentType?: string;
  /** At most `maxBodyBytes + 1` bytes: the server stops reading past the limit. */
  body: Buffer;
}

export interface EndpointAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, string>;
  /** For the server's log line: the room and identity a token was issued for. */
  issued?: { room: string; identity: string };
}

export async function answerTokenRequest(req: EndpointRequest, opts: TokenEndpointOptions): Promise<EndpointAnswer> {
  if (req.method !== 'POST') return refusal(new Refusal(405, 'use POST'), { Allow: 'POST' });
  try {
    if (opts.authToken !== undefined && !bearerMatches(req.authorization, opts.authToken)) {
      return refusal(new Refusal(401, 'a valid Authorization: Bearer token is required'), {
        'WWW-Authenticate': 'Bearer',
      });
    }
    if (req.body.length > maxBodyBytes) throw new Refusal(413, `the body is larger than ${maxBodyBytes} bytes`);
    const type = req.contentType?.split(';')[0]?.trim().toLowerCase();
    if (req.body.length > 0 && type !== 'application/json') {
      throw new Refusal(415, 'the body must be JSON (Content-Type: application/json)');
    }
    const request = parseTokenRequest(req.body.toString('utf8'), opts.agentName);
    return await issue(request, opts);
  } catch (err) {
    if (err instanceof Refusal) return refusal(err);
    throw err;
  }
}

async function issue(request: TokenRequest, opts: TokenEndpointOptions): Promise<EndpointAnswer> {
  // Defaults: a fresh room per call (the agent is dispatched when a room is created), and an
  // identity of its own for a client that does not keep one.
  const room = request.room ?? `call-${randomUUID()}`;
  const identity = request.identity ?? `caller-${randomUUID()}`;
  const token = await mintJoinToken({
    apiKey: opts.apiKey,
    apiSecret: opts.apiSecret,
    room,
    identity,
    ...(request.name !== undefined ? { name: request.name } : {}),
    ...(opts.agentName !== undefined ? { agentName: opts.agentName } : {}),
  });
  return {
    status: 201,
    headers: noStore,
    body: { server_url: clientUrl(opts.livekitUrl), participant_token: token },
    issued: { room, identity },
  };
}

// A token is a credential: no cache keeps it.
const noStore = { 'Cache-Control': 'no-store' };

function refusal(r: Refusal, headers: Record<string, string> = {}): EndpointAnswer {
  return { status: r.status, headers: { ...noStore, ...headers }, body: { error: r.message } };
}

/** Compares digests so that neither the length nor a prefix of the token shows in the timing. */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
