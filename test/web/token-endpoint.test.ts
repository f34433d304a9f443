import { TokenVerifier } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  answerTokenRequest,
  maxBodyBytes,
  type EndpointRequest,
  type TokenEndpointOptions,
} from '../../src/web/token-endpoint.ts';

const apiKey = 'devkey';
const apiSecret = 'devsecret_change_me_to_32_chars_or_more';
const verifier = new TokenVerifier(apiKey, apiSecret);
const base: TokenEndpointOptions = { livekitUrl: 'http://127.0.0.1:7880', apiKey, apiSecret };
const withAgent: TokenEndpointOptions = { ...base, agentName: 'voice-agent' };
const authToken = 'web-auth-token-0123456789abcdef-0123';

function post(body: unknown, extra: Partial<EndpointRequest> = {}): EndpointRequest {
  return {
    method: 'POST',
    contentType: 'application/json',
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    ...extra,
  };
}

/** The grants of `npm run token`, and nothing else. */
const callerGrant = (room: string) => ({
  roomJoin: true,
  room,
  canPublish: true,
  canSubscribe: true,
  canPublishData: true,
});

describe('POST /api/token, the standard endpoint format', () => {
  it('answers 201 with server_url and participant_token, the least grants and the chosen names', async () => {
    const a = await answerTokenRequest(
      post({ room_name: 'kitchen', participant_identity: 'alice', participant_name: 'Alice' }),
      base,
    );
    expect(a.status).toBe(201);
    expect(Object.keys(a.body).sort()).toEqual(['participant_token', 'server_url']);
    expect(a.body.server_url).toBe('ws://127.0.0.1:7880');
    expect(a.headers['Cache-Control']).toBe('no-store');
    const claims = await verifier.verify(a.body.participant_token!);
    expect(claims.sub).toBe('alice');
    expect(claims.name).toBe('Alice');
    expect(claims.video).toStrictEqual(callerGrant('kitchen'));
    expect(claims.roomConfig).toBeUndefined();
    expect(claims.metadata ?? '').toBe('');
    expect(claims.attributes ?? {}).toEqual({});
    expect(JSON.stringify(a)).not.toContain(apiSecret);
  });

  it('picks a fresh room and identity when the body leaves them out, empty body included', async () => {
    for (const body of ['', '{}']) {
      const a = await answerTokenRequest(post(body), base);
      expect(a.status).toBe(201);
      const claims = await verifier.verify(a.body.participant_token!);
      expect(claims.sub).toMatch(/^caller-[0-9a-f-]{36}$/);
      expect(claims.video?.room).toMatch(/^call-[0-9a-f-]{36}$/);
      expect(a.issued).toEqual({ room: claims.video?.room, identity: claims.sub });
    }
  });

  it("dispatches the worker's LIVEKIT_AGENT_NAME, and accepts a client asking for exactly that agent", async () => {
    for (const body of [{}, { room_config: { agents: [{ agent_name: 'voice-agent' }] } }]) {
      const a = await answerTokenRequest(post({ ...body, room_name: 'r' }), withAgent);
      expect(a.status).toBe(201);
      const claims = await verifier.verify(a.body.participant_token!);
      expect(claims.roomConfig?.agents?.map((d) => d.agentName)).toEqual(['voice-agent']);
      expect(claims.roomConfig?.agents?.[0]?.metadata ?? '').toBe('');
      expect(claims.video).toStrictEqual(callerGrant('r'));
    }
  });

  it('takes the empty values clients send for unset fields as unset', async () => {
    const a = await answerTokenRequest(
      post({ participant_metadata: '', participant_attributes: {}, room_config: {} }),
      base,
    );
    expect(a.status).toBe(201);
  });
});

describe('POST /api/token refuses', () => {
  const refusals: [string, EndpointRequest, TokenEndpointOptions, number, RegExp][] = [
    ['a GET', { method: 'GET', body: Buffer.alloc(0) }, base, 405, /POST/],
    ['bad JSON', post('{"room_name":'), base, 400, /not valid JSON/],
    ['a JSON array', post('[]'), base, 400, /JSON object/],
    [
      'a body that is not JSON',
      post('room=x', { contentType: 'application/x-www-form-urlencoded' }),
      base,
      415,
      /JSON/,
    ],
    ['an oversized body', post({ room_name: 'x'.repeat(maxBodyBytes) }), base, 413, /larger than/],
    ['an unknown field', post({ room_name: 'r', can_publish_sources: ['camera'] }), base, 400, /unknown field: can/],
    ['a grant smuggled in', post({ video: { roomAdmin: true } }), base, 400, /unknown field: video/],
    ['an empty room', post({ room_name: '' }), base, 400, /room_name must not be empty/],
    ['an empty identity', post({ participant_identity: '' }), base, 400, /participant_identity must not be empty/],
    ['a too long room', post({ room_name: 'r'.repeat(129) }), base, 400, /room_name must be at most 128/],
    ['a too long identity', post({ participant_identity: 'i'.repeat(129) }), base, 400, /at most 128/],
    ['a control character in a room', post({ room_name: 'a\nb' }), base, 400, /room_name .*control/],
    ['a control character in an identity', post({ participant_identity: 'a\u0000' }), base, 400, /control/],
    ['a DEL in a name', post({ participant_name: 'a\u007f' }), base, 400, /participant_name .*control/],
    ['an identity with edge spaces', post({ participant_identity: ' alice' }), base, 400, /spaces/],
    ['an identity that is not a string', post({ participant_identity: 7 }), base, 400, /must be a string/],
    ['participant metadata', post({ participant_metadata: '{"vip":true}' }), base, 403, /server only/],
    ['participant attributes', post({ participant_attributes: { role: 'admin' } }), base, 403, /server only/],
    [
      'another agent',
      post({ room_config: { agents: [{ agent_name: 'other' }] } }),
      withAgent,
      403,
      /only agent .*"voice-agent"/,
    ],
    [
      'a second agent',
      post({ room_config: { agents: [{ agent_name: 'voice-agent' }, { agent_name: 'voice-agent' }] } }),
      withAgent,
      403,
      /one agent only/,
    ],
    [
      'agent metadata',
      post({ room_config: { agents: [{ agent_name: 'voice-agent', metadata: '{"admin":1}' }] } }),
      withAgent,
      403,
      /metadata set by the server only/,
    ],
    [
      'any agent under automatic dispatch',
      post({ room_config: { agents: [{ agent_name: 'voice-agent' }] } }),
      base,
      403,
      /automatically/,
    ],
    ['other room settings', post({ room_config: { egress: {}, max_participants: 50 } }), base, 403, /egress/],
    ['a request without the bearer token', post({}), { ...base, authToken }, 401, /Bearer/],
    [
      'a wrong bearer token',
      post({}, { authorization: `Bearer ${authToken}x` }),
      { ...base, authToken },
      401,
      /Bearer/,
    ],
    [
      'a token in another scheme',
      post({}, { authorization: `Basic ${authToken}` }),
      { ...base, authToken },
      401,
      /Bearer/,
    ],
  ];
  for (const [what, req, opts, status, reason] of refusals) {
    it(`${what} with ${status} and the reason`, async () => {
      const a = await answerTokenRequest(req, opts);
      expect(a.status).toBe(status);
      expect(a.body.error).toMatch(reason);
      expect(a.body).not.toHaveProperty('participant_token');
      expect(a.issued).toBeUndefined();
    });
  }

  it('nothing once the bearer token is right', async () => {
    const a = await answerTokenRequest(post({}, { authorization: `Bearer ${authToken}` }), { ...base, authToken });
    expect(a.status).toBe(201);
  });
});

describe('npm run web configuration', () => {
  const livekit = { LIVEKIT_URL: 'ws://127.0.0.1:7880', LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret };

  it('needs only the LiveKit settings, on 127.0.0.1:3000 by default', () => {
    const c = loadConfig('web', livekit);
    expect(c.web).toEqual({ host: '127.0.0.1', port: 3000, setup: { standIns: [], simulatedSpeech: [] } });
  });

  it('refuses any address but loopback without a WEB_AUTH_TOKEN of 32 characters or more', () => {
    expect(() => loadConfig('web', { ...livekit, WEB_HOST: '0.0.0.0' })).toThrow(/WEB_AUTH_TOKEN is required/);
    expect(() => loadConfig('web', { ...livekit, WEB_HOST: '0.0.0.0', WEB_AUTH_TOKEN: 'short' })).toThrow(
      /at least 32/,
    );
    const c = loadConfig('web', { ...livekit, WEB_HOST: '0.0.0.0', WEB_AUTH_TOKEN: authToken });
    expect(c.web.authToken).toBe(authToken);
    expect(c.secrets).toContain(authToken);
    expect(loadConfig('web', { ...livekit, WEB_HOST: '::1', WEB_PORT: '0' }).web).toEqual({
      host: '::1',
      port: 0,
      setup: { standIns: [], simulatedSpeech: [] },
    });
  });

  it('reads what npm run local tells the page: the stand-ins and what simulated recognition will hear', () => {
    const c = loadConfig('web', {
      ...livekit,
      WEB_STAND_INS: 'deepgram, letta',
      WEB_SIMULATED_SPEECH: 'Hello there. | What do you remember?|',
    });
    expect(c.web.setup).toEqual({
      standIns: ['deepgram', 'letta'],
      simulatedSpeech: ['Hello there.', 'What do you remember?'],
    });
    expect(() => loadConfig('web', { ...livekit, WEB_STAND_INS: 'deepgram,whisper' })).toThrow(/WEB_STAND_INS/);
  });
});
