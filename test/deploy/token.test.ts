import { TokenVerifier } from 'livekit-server-sdk';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxTtlSeconds, meetLink, mintJoinToken, parseTokenArgs, parseTtl } from '../../src/cli/token.ts';
import { cleanEnv, projectRoot, runNode } from '../helpers/run.ts';

const apiKey = 'devkey';
const apiSecret = 'devsecret_change_me_to_32_chars_or_more';
const verifier = new TokenVerifier(apiKey, apiSecret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Exactly the permissions a caller gets; anything else in the token is a leak. */
const callerGrant = { roomJoin: true, room: 'test', canPublish: true, canSubscribe: true, canPublishData: true };

describe('mintJoinToken', () => {
  it('grants joining one room with publish, subscribe and data, and nothing else', async () => {
    const before = nowSeconds();
    const claims = await verifier.verify(
      await mintJoinToken({ apiKey, apiSecret, room: 'test', identity: 'alice', name: 'Alice' }),
    );
    expect(claims.sub).toBe('alice');
    expect(claims.name).toBe('Alice');
    expect(claims.iss).toBe(apiKey);
    expect(claims.video).toStrictEqual(callerGrant);
    for (const admin of ['roomAdmin', 'roomCreate', 'roomList', 'roomRecord', 'recorder', 'hidden', 'agent']) {
      expect(claims.video).not.toHaveProperty(admin);
    }
    expect(claims.sip).toBeUndefined();
    expect(claims.roomConfig).toBeUndefined();
    expect(claims.exp! - before).toBeGreaterThanOrEqual(3600);
    expect(claims.exp! - before).toBeLessThanOrEqual(3600 + 5);
  });

  it('dispatches the named agent only when asked', async () => {
    const claims = await verifier.verify(
      await mintJoinToken({
        apiKey,
        apiSecret,
        room: 'test',
        identity: 'bob',
        agentName: 'voice-agent',
        ttlSeconds: 1800,
      }),
    );
    expect(claims.roomConfig?.agents?.map((a) => a.agentName)).toEqual(['voice-agent']);
    expect(claims.name).toBeUndefined();
    expect(claims.video).toStrictEqual(callerGrant);
    expect(claims.exp! - nowSeconds()).toBeGreaterThan(1800 - 5);
    expect(claims.exp! - nowSeconds()).toBeLessThanOrEqual(1800);
  });

  it('refuses to fall back to credentials from the environment, or to mint an over-long token', async () => {
    await expect(mintJoinToken({ apiKey: '', apiSecret, room: 'r', identity: 'i' })).rejects.toThrow(/apiKey/);
    await expect(
      mintJoinToken({ apiKey, apiSecret, room: 'r', identity: 'i', ttlSeconds: maxTtlSeconds + 1 }),
    ).rejects.toThrow(RangeError);
  });
});

describe('token arguments', () => {
  it('reads durations as h/m/s or plain seconds', () => {
    expect(parseTtl('30m')).toBe(1800);
    expect(parseTtl('1h')).toBe(3600);
    expect(parseTtl('2h30m')).toBe(9000);
    expect(parseTtl('1h30m15s')).toBe(5415);
    expect(parseTtl('90s')).toBe(90);
    expect(parseTtl('600')).toBe(600);
    for (const bad of ['', '0', '0m', '1d', 'h', '1.5h', '30m1h', '-5', ' 1h'])
      expect(() => parseTtl(bad)).toThrow(/duration/);
  });

  it('defaults to one hour and cuts anything past 24 h', () => {
    expect(parseTokenArgs(['--room', 'r', '--identity', 'i'])).toEqual({
      room: 'r',
      identity: 'i',
      ttlSeconds: 3600,
      ttlCapped: false,
    });
    expect(parseTokenArgs(['--room', 'r', '--identity', 'i', '--ttl', '48h'])).toMatchObject({
      ttlSeconds: 86400,
      ttlCapped: true,
    });
  });

  it('builds a Meet link that carries the URL and the token intact', () => {
    const link = new URL(meetLink('wss://p.livekit.cloud', 'a.b-c_d'));
    expect(link.origin + link.pathname).toBe('https://meet.livekit.io/custom');
    expect(link.searchParams.get('liveKitUrl')).toBe('wss://p.livekit.cloud');
    expect(link.searchParams.get('token')).toBe('a.b-c_d');
  });
});

describe('npm run token', () => {
  const script = join(projectRoot, 'src/cli/token.ts');
  // An empty working directory: a developer's .env must not leak into these runs.
  const cwd = mkdtempSync(join(tmpdir(), 'token-cli-'));
  const env = cleanEnv({
    LIVEKIT_URL: 'http://127.0.0.1:7880',
    LIVEKIT_API_KEY: apiKey,
    LIVEKIT_API_SECRET: apiSecret,
  });

  it('prints a verifiable token, the client URL and the join links', async () => {
    const r = await runNode(
      [script, '--room', 'test', '--identity', 'alice', '--agent', 'voice-agent', '--ttl', '30m'],
      {
        env,
        cwd,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('URL:   ws://127.0.0.1:7880\n');
    const jwt = r.stdout.match(/^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m)?.[1];
    expect(jwt).toBeDefined();
    const claims = await verifier.verify(jwt!);
    expect(claims.sub).toBe('alice');
    expect(claims.video).toStrictEqual(callerGrant);
    expect(claims.roomConfig?.agents?.map((a) => a.agentName)).toEqual(['voice-agent']);
    expect(claims.exp! - nowSeconds()).toBeLessThanOrEqual(1800);
    const meet = r.stdout.match(/(https:\/\/meet\.livekit\.io\/custom\?\S+)/)?.[1];
    expect(new URL(meet!).searchParams.get('token')).toBe(jwt);
    expect(r.stdout).toContain('https://agents-playground.livekit.io/');
  });

  it('without --agent, warns when the worker uses explicit dispatch and leaves dispatch out', async () => {
    const r = await runNode([script, '--room', 'test', '--identity', 'bob'], {
      env: { ...env, LIVEKIT_AGENT_NAME: 'voice-agent' },
      cwd,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('--agent voice-agent');
    const claims = await verifier.verify(r.stdout.match(/^(eyJ\S+)$/m)![1]!);
    expect(claims.roomConfig).toBeUndefined();
  });

  for (const [what, args, message] of [
    ['missing --identity', ['--room', 'test'], /missing --identity/],
    ['missing --room and --identity', [], /missing --room and --identity/],
    ['a bad --ttl', ['--room', 'test', '--identity', 'a', '--ttl', 'soon'], /--ttl "soon" is not a duration/],
    ['an unknown flag', ['--room', 'test', '--identity', 'a', '--admin'], /Unknown option '--admin'/],
    ['a stray argument', ['--room', 'test', '--identity', 'a', 'extra'], /extra/],
  ] as const) {
    it(`rejects ${what} with the usage and exit code 2`, async () => {
      const r = await runNode([script, ...args], { env, cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('Usage: npm run token --');
      expect(r.stdout).toBe('');
    });
  }

  it('without configuration, names the missing settings and exits 2', async () => {
    const r = await runNode([script, '--room', 'test', '--identity', 'a'], { env: cleanEnv(), cwd });
    expect(r.code).toBe(2);
    for (const name of ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET']) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
