/**
 * `npm run local`'s decisions (scripts/local/plan.ts), with nothing started: which service is real,
 * the ports and the settings that move them, the media address, the server's config and the
 * worker's settings. The launcher itself runs in the room tier.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  chooseServices,
  defaultTranscripts,
  livekitServerConfig,
  localPorts,
  mediaAddress,
  mediaSituation,
  mergeEnv,
  pageSettings,
  portInUseMessage,
  transcripts,
  workerSettings,
} from '../../scripts/local/plan.ts';

const v4 = (address: string, internal: boolean): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
});

describe('npm run local: the plan', () => {
  it('lets a non-blank variable of the environment win over .env, and treats blank as unset', () => {
    expect(mergeEnv({ A: 'env', B: '', C: ' ' }, { A: 'file', B: 'file', C: 'file', D: '' })).toEqual({
      A: 'env',
      B: 'file',
      C: 'file',
    });
  });

  it('uses the real service where a key is set, and its stand-in otherwise', () => {
    expect(chooseServices({})).toEqual({
      openai: 'stand-in',
      deepgram: 'stand-in',
      elevenlabs: 'stand-in',
      letta: 'stand-in',
    });
    expect(
      chooseServices({ OPENAI_API_KEY: 'sk-1', DEEPGRAM_API_KEY: 'dg', ELEVEN_API_KEY: 'el', LETTA_API_KEY: 'lt' }),
    ).toEqual({ openai: 'real', deepgram: 'real', elevenlabs: 'real', letta: 'real' });
    // Letta is real with a server of your own too.
    expect(chooseServices({ LETTA_BASE_URL: 'http://127.0.0.1:8283' }).letta).toBe('real');
    // `sim` (the manual stand-in steps' placeholder) and blanks are no key.
    expect(chooseServices({ OPENAI_API_KEY: 'sim', DEEPGRAM_API_KEY: '  ' })).toMatchObject({
      openai: 'stand-in',
      deepgram: 'stand-in',
    });
  });

  it('names every fixed port, its default and the setting that moves it', () => {
    expect(localPorts({}).map((n) => [n.setting, n.port, n.protocol])).toEqual([
      ['LOCAL_LIVEKIT_PORT', 7880, 'tcp'],
      ['LOCAL_LIVEKIT_TCP_PORT', 7881, 'tcp'],
      ['LOCAL_LIVEKIT_UDP_PORT', 7882, 'udp'],
      ['WORKER_HEALTH_PORT', 8081, 'tcp'],
      ['WEB_PORT', 3000, 'tcp'],
      ['METRICS_PORT', 9464, 'tcp'],
    ]);
    const moved = localPorts({ LOCAL_LIVEKIT_PORT: '17880', WEB_PORT: '3001', METRICS_PORT: 'off' });
    expect(moved.map((n) => n.port)).toEqual([17880, 7881, 7882, 8081, 3001]);
    expect(() => localPorts({ WEB_PORT: 'http' })).toThrow(/WEB_PORT must be a port/);
  });

  it('says which part needs a port in use, and how to move it', () => {
    const web = localPorts({}).find((n) => n.setting === 'WEB_PORT')!;
    expect(portInUseMessage(web)).toBe(
      'port 3000/tcp (join page) is in use: stop what holds it, or set WEB_PORT to another port (in .env or the environment)',
    );
    const udp = localPorts({}).find((n) => n.protocol === 'udp')!;
    expect(portInUseMessage(udp)).toMatch(
      /^port 7882\/udp \(LiveKit server \(WebRTC over UDP\)\).*LOCAL_LIVEKIT_UDP_PORT/,
    );
  });

  it('puts WebRTC media on the first non-loopback address, and explains a machine with only loopback', () => {
    const lan = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.168.1.20', false)] };
    expect(mediaAddress({}, lan)).toEqual({ ip: '192.168.1.20', iface: 'eth0' });
    expect(mediaAddress({ LOCAL_NODE_IP: '10.0.0.5' }, lan)).toEqual({ ip: '10.0.0.5', iface: null });
    expect(mediaSituation(mediaAddress({}, lan))).toMatch(/^WebRTC media on 192\.168\.1\.20 \(eth0\)/);

    const onlyLoopback = mediaAddress({}, { lo: [v4('127.0.0.1', true)] });
    expect(onlyLoopback).toBeNull();
    expect(mediaSituation(onlyLoopback)).toMatch(/only a loopback interface: WebRTC does not use loopback/);
    expect(mediaSituation(onlyLoopback)).toMatch(/LOCAL_NODE_IP/);
  });

  it("gives LiveKit's server its own ports, key, media address, no outside STUN, and dispatch that ignores load", () => {
    const config = livekitServerConfig({
      ports: { signal: 7880, rtcTcp: 7881, rtcUdp: 7882 },
      nodeIp: '192.168.1.20',
      apiKey: 'local',
      apiSecret: 'x'.repeat(48),
    });
    expect(config).toMatchObject({
      port: 7880,
      bind_addresses: ['127.0.0.1'],
      rtc: {
        tcp_port: 7881,
        udp_port: 7882,
        node_ip: '192.168.1.20',
        use_external_ip: false,
        stun_servers: ['192.168.1.20:3478'],
      },
      keys: { local: 'x'.repeat(48) },
      agents: { target_load: 100 },
      room: { auto_create: true },
    });
    const loopback = livekitServerConfig({
      ports: { signal: 1, rtcTcp: 2, rtcUdp: 3 },
      nodeIp: null,
      apiKey: 'k',
      apiSecret: 's',
    });
    expect(loopback).toMatchObject({ rtc: { node_ip: '127.0.0.1' } });
  });

  it('points the worker at the stand-ins only for the services without a key, with one warm job process', () => {
    const settings = workerSettings({
      livekit: { url: 'ws://127.0.0.1:7880', apiKey: 'local', apiSecret: 'secret' },
      healthPort: 8081,
      services: { openai: 'real', deepgram: 'stand-in', elevenlabs: 'stand-in', letta: 'stand-in' },
      standIns: { deepgram: 'ws://127.0.0.1:1', elevenlabs: 'http://127.0.0.1:2/v1', letta: 'http://127.0.0.1:3' },
      journalDir: '/tmp/journal',
    });
    expect(settings).toMatchObject({
      LIVEKIT_URL: 'ws://127.0.0.1:7880',
      LIVEKIT_NUM_IDLE_PROCESSES: '1',
      WORKER_HEALTH_PORT: '8081',
      DEEPGRAM_API_KEY: 'sim',
      DEEPGRAM_BASE_URL: 'ws://127.0.0.1:1',
      ELEVENLABS_BASE_URL: 'http://127.0.0.1:2/v1',
      LETTA_BASE_URL: 'http://127.0.0.1:3',
    });
    // The real OpenAI keeps its key and URL from .env.
    expect(settings).not.toHaveProperty('OPENAI_API_KEY');
    expect(settings).not.toHaveProperty('OPENAI_BASE_URL');
  });

  it('scripts what the Deepgram stand-in hears: LOCAL_TRANSCRIPTS, else a default', () => {
    expect(transcripts({})).toEqual(defaultTranscripts);
    expect(transcripts({ LOCAL_TRANSCRIPTS: 'Hi there | How are you?|' })).toEqual(['Hi there', 'How are you?']);
  });

  it('tells the page which services are stand-ins and, only with the Deepgram stand-in, what it will hear', () => {
    const all = chooseServices({});
    expect(pageSettings(all, ['One.', 'Two.'])).toEqual({
      WEB_STAND_INS: 'openai,deepgram,elevenlabs,letta',
      WEB_SIMULATED_SPEECH: 'One.|Two.',
    });
    const realDeepgram = chooseServices({ DEEPGRAM_API_KEY: 'dg-key' });
    expect(pageSettings(realDeepgram, ['One.'])).toEqual({
      WEB_STAND_INS: 'openai,elevenlabs,letta',
      WEB_SIMULATED_SPEECH: '',
    });
  });
});
