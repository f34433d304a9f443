/**
 * `npm run token -- --room R --identity I [--name N] [--agent NAME] [--ttl 1h]`: a join token for
 * one person in one room, with links that open the room in a browser.
 *
 * The token carries only what a caller needs: join this room, publish (microphone), subscribe
 * (hear the agent) and publish data. Data is granted because the agent's text input (the chat box
 * of the Playground and of Meet) and RPC calls to the agent travel as data packets. Nothing that
 * administers, lists, creates or records rooms, and the caller is never hidden.
 */
import { AccessToken, RoomAgentDispatch, RoomConfiguration, type VideoGrant } from 'livekit-server-sdk';
import { parseArgs } from 'node:util';
import { loadConfigOrExit, requireSetting } from '../config.ts';

export const defaultTtlSeconds = 60 * 60;
/** A join token is a bearer credential: long-lived ones are not handed out. */
export const maxTtlSeconds = 24 * 60 * 60;

export const playgroundUrl = 'https://agents-playground.livekit.io/';

export interface JoinTokenOptions {
  apiKey: string;
  apiSecret: string;
  room: string;
  identity: string;
  /** Display name; the identity is shown when unset. */
  name?: string;
  /** Dispatches this agent (explicit dispatch) when the room is created by this join. */
  agentName?: string;
  /** Default one hour, at most 24 hours. */
  ttlSeconds?: number;
}

/** The grants of a caller's join token, and no others. */
export function joinGrant(room: string): VideoGrant {
  return { roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true };
}

export async function mintJoinToken(opts: JoinTokenOptions): Promise<string> {
  // AccessToken falls back to LIVEKIT_API_KEY/SECRET from the environment when given empty strings.
  if (!opts.apiKey || !opts.apiSecret) throw new Error('apiKey and apiSecret are required');
  if (!opts.room || !opts.identity) throw new Error('room and identity are required');
  const ttl = opts.ttlSeconds ?? defaultTtlSeconds;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > maxTtlSeconds) {
    throw new RangeError(`ttlSeconds must be a whole number of seconds from 1 to ${maxTtlSeconds}`);
  }
  const token = new AccessToken(opts.apiKey, opts.apiSecret, {
    identity: opts.identity,
    ttl,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  });
  token.addGrant(joinGrant(opts.room));
  if (opts.agentName !== undefined) {
    token.roomConfig = new RoomConfiguration({ agents: [new RoomAgentDispatch({ agentName: opts.agentName })] });
  }
  return token.toJwt();
}

/** `90`, `90s`, `30m`, `1h`, `2h30m`, `1h30m15s` → seconds. Throws on anything else or zero. */
export function parseTtl(text: string): number {
  const bare = /^\d+$/.test(text) ? Number(text) : undefined;
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  let seconds = bare;
  if (seconds === undefined && parts !== null && text !== '') {
    const [, h = '0', m = '0', s = '0'] = parts;
    seconds = Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  if (seconds === undefined || !Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new UsageError(`--ttl ${JSON.stringify(text)} is not a duration: use e.g. 30m, 1h, 2h30m or seconds`);
  }
  return seconds;
}

/** What browsers connect to: LIVEKIT_URL may be given as http(s), clients speak ws(s). */
export function clientUrl(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:');
}

/** LiveKit Meet's custom-server page joins straight from its query string. */
export function meetLink(url: string, token: string): string {
  const link = new URL('https://meet.livekit.io/custom');
  link.searchParams.set('liveKitUrl', url);
  link.searchParams.set('token', token);
  return link.href;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `Usage: npm run token -- --room ROOM --identity IDENTITY [--name NAME] [--agent AGENT_NAME] [--ttl 1h]

Mints a LiveKit join token (join, publish, subscribe, data; nothing else) from LIVEKIT_URL,
LIVEKIT_API_KEY and LIVEKIT_API_SECRET (environment or .env), and prints links to join in a browser.

  --room ROOM          room to join (created on first join)
  --identity IDENTITY  participant identity, unique in the room
  --name NAME          display name (default: the identity)
  --agent AGENT_NAME   dispatch this agent when the room is created (explicit dispatch,
                       the worker's LIVEKIT_AGENT_NAME); omit for automatic dispatch
  --ttl DURATION       token lifetime: 30m, 1h, 2h30m or seconds (default 1h, at most 24h)
  --help               show this help
`;

export interface TokenArgs {
  room: string;
  identity: string;
  name?: string;
  agentName?: string;
  ttlSeconds: number;
  /** The requested lifetime was above the 24 h limit and was cut to it. */
  ttlCapped: boolean;
}

const flags = {
  room: { type: 'string' },
  identity: { type: 'string' },
  name: { type: 'string' },
  agent: { type: 'string' },
  ttl: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: flags, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Command line → options. Throws UsageError; returns 'help' for --help. */
export function parseTokenArgs(argv: string[]): TokenArgs | 'help' {
  const values = readFlags(argv);
  if (values.help) return 'help';
  const room = values.room?.trim();
  const identity = values.identity?.trim();
  if (!room || !identity) {
    throw new UsageError(`missing ${[!room && '--room', !identity && '--identity'].filter(Boolean).join(' and ')}`);
  }
  const name = values.name?.trim();
  const agentName = values.agent?.trim();
  if (name === '') throw new UsageError('--name must not be empty');
  if (agentName === '') throw new UsageError('--agent must not be empty');
  const requested = values.ttl === undefined ? defaultTtlSeconds : parseTtl(values.ttl);
  return {
    room,
    identity,
    ...(name !== undefined ? { name } : {}),
    ...(agentName !== undefined ? { agentName } : {}),
    ttlSeconds: Math.min(requested, maxTtlSeconds),
    ttlCapped: requested > maxTtlSeconds,
  };
}

async function main(argv: string[]): Promise<void> {
  let args: TokenArgs | 'help';
  try {
    args = parseTokenArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`token: ${err.message}\n\n${usage}`);
    process.exit(2);
  }
  if (args === 'help') {
    process.stdout.write(usage);
    return;
  }
  const config = loadConfigOrExit('token');
  const url = clientUrl(requireSetting(config.livekit.url, 'LIVEKIT_URL'));
  const { ttlCapped, ...options } = args;
  const token = await mintJoinToken({
    apiKey: requireSetting(config.livekit.apiKey, 'LIVEKIT_API_KEY'),
    apiSecret: requireSetting(config.livekit.apiSecret, 'LIVEKIT_API_SECRET'),
    ...options,
  });
  if (ttlCapped) process.stderr.write('token: --ttl cut to the 24 h maximum\n');
  if (args.agentName === undefined && config.livekit.agentName !== undefined) {
    process.stderr.write(
      `token: LIVEKIT_AGENT_NAME=${config.livekit.agentName} means explicit dispatch: without --agent ${config.livekit.agentName} the agent will not join\n`,
    );
  }
  const expires = new Date(Date.now() + args.ttlSeconds * 1000).toISOString();
  const dispatch = args.agentName !== undefined ? `, dispatches agent "${args.agentName}"` : '';
  process.stdout.write(
    [
      `URL:   ${url}`,
      `Token (room "${args.room}", identity "${args.identity}", expires ${expires}${dispatch}):`,
      token,
      '',
      `LiveKit Meet (joins directly): ${meetLink(url, token)}`,
      `Agents Playground: open ${playgroundUrl}, choose "Manual", paste the URL and the token above.`,
      '',
    ].join('\n'),
  );
}

if (import.meta.main) await main(process.argv.slice(2));
