/**
 * The body of a token request in LiveKit's standard endpoint format, checked field by field.
 *
 * Every field is optional. What a client may choose is narrow on purpose: a token for an identity
 * hears what the agent remembers about that caller, and whatever a token carries (metadata,
 * attributes, dispatch) reaches the room as if the server had said it.
 */
import { z } from 'zod';

/** Room names and identities above this are refused rather than cut: a cut name is another caller. */
export const maxNameLength = 128;

/** A refusal: the HTTP status and a reason the client can act on. */
export class Refusal extends Error {
  override name = 'Refusal';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

// C0, DEL and C1 controls, plus line and paragraph separators: never part of a name a person types.
const controlCharacters = /[\p{Cc}\u2028\u2029]/u;

const nameField = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(maxNameLength, `${what} must be at most ${maxNameLength} characters`)
    .refine((v) => !controlCharacters.test(v), `${what} must not contain control characters`)
    .refine((v) => v.trim() === v, `${what} must not start or end with spaces`);

const requestSchema = z.strictObject({
  room_name: nameField('room_name').optional(),
  participant_identity: nameField('participant_identity').optional(),
  participant_name: nameField('participant_name').optional(),
  participant_metadata: z.unknown().optional(),
  participant_attributes: z.unknown().optional(),
  room_config: z.unknown().optional(),
});

export interface TokenRequest {
  room?: string;
  identity?: string;
  name?: string;
}

/**
 * Parses and checks a request body. `agentName` is the worker's LIVEKIT_AGENT_NAME: the one agent
 * a client may ask for, which the token dispatches anyway. Throws Refusal.
 */
export function parseTokenRequest(body: string, agentName: string | undefined): TokenRequest {
  let json: unknown;
  try {
    // An empty body is the request with every field left out.
    json = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw new Refusal(400, 'the body is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Refusal(400, 'the body must be a JSON object');
  }
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw new Refusal(400, `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`);
    }
    throw new Refusal(400, issue?.message ?? 'invalid request');
  }
  const r = parsed.data;
  if (!isEmpty(r.participant_metadata)) {
    throw new Refusal(403, 'participant_metadata is set by the server only: the agent trusts what a token carries');
  }
  if (!isEmpty(r.participant_attributes)) {
    throw new Refusal(403, 'participant_attributes are set by the server only: the agent trusts what a token carries');
  }
  checkRoomConfig(r.room_config, agentName);
  return {
    ...(r.room_name !== undefined ? { room: r.room_name } : {}),
    ...(r.participant_identity !== undefined ? { identity: r.participant_identity } : {}),
    ...(r.participant_name !== undefined ? { name: r.participant_name } : {}),
  };
}

/** Clients serialise unset fields as "", {} or null; those ask for nothing. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

/**
 * room_config may only name the worker's own agent, exactly as `TokenSource.endpoint({agentName})`
 * sends it: `{"agents":[{"agent_name":"<LIVEKIT_AGENT_NAME>"}]}`. Other agents, agent metadata
 * (which the agent would trust), timeouts, egress and the rest are the server's to set.
 */
function checkRoomConfig(config: unknown, agentName: string | undefined): void {
  if (isEmpty(config)) return;
  const refuse = (why: string) => new Refusal(403, `room_config: ${why}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw refuse('must be an object');
  const extra = Object.keys(config).filter((k) => k !== 'agents');
  if (extra.length > 0) throw refuse(`${extra.join(', ')} set by the server only`);
  const agents = (config as { agents?: unknown }).agents;
  if (agents === undefined || (Array.isArray(agents) && agents.length === 0)) return;
  if (!Array.isArray(agents) || agents.length !== 1) throw refuse('agents may name one agent only');
  const [dispatch] = agents as unknown[];
  if (typeof dispatch !== 'object' || dispatch === null || Array.isArray(dispatch)) {
    throw refuse('agents[0] must be an object');
  }
  const fields = Object.keys(dispatch).filter((k) => k !== 'agent_name');
  if (fields.length > 0) throw refuse(`agents[0].${fields.join(', agents[0].')} set by the server only`);
  const requested = (dispatch as { agent_name?: unknown }).agent_name;
  if (agentName === undefined) {
    throw refuse('this server dispatches its agent automatically; a client may not dispatch agents');
  }
  if (requested !== agentName) throw refuse(`the only agent a client may ask for is "${agentName}"`);
}
