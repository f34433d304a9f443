/**
 * `npm run local`'s decisions, with nothing started: which services are real and which are
 * stand-ins, the ports it needs and the setting that moves each, the address WebRTC media can use,
 * and LiveKit's server config. scripts/local.ts carries them out.
 */
import { networkInterfaces } from 'node:os';

export type Env = Record<string, string | undefined>;

/**
 * The environment the launcher and its children see: a non-blank variable of the process wins over
 * `.env` (as the worker's own configuration does), and blank counts as unset.
 */
export function mergeEnv(processEnv: Env, dotEnv: Env): Env {
  const out: Env = {};
  for (const [k, v] of Object.entries(dotEnv)) if (v?.trim()) out[k] = v;
  for (const [k, v] of Object.entries(processEnv)) if (v?.trim()) out[k] = v;
  return out;
}

export type Service = 'openai' | 'deepgram' | 'elevenlabs' | 'letta';
export type Source = 'real' | 'stand-in';

export const serviceNames: Record<Service, string> = {
  openai: 'OpenAI',
  deepgram: 'Deepgram',
  elevenlabs: 'ElevenLabs',
  letta: 'Letta',
};

/** The variables that make a service real; any one set is enough. */
export const serviceKeys: Record<Service, string[]> = {
  openai: ['OPENAI_API_KEY'],
  deepgram: ['DEEPGRAM_API_KEY'],
  elevenlabs: ['ELEVEN_API_KEY'],
  letta: ['LETTA_API_KEY', 'LETTA_BASE_URL'],
};

/**
 * A key set to `sim` (what the manual stand-in steps of docs/deploy.md put in `.env`) is no key:
 * those stand-ins are not running, `npm run local` starts its own.
 */
function given(v: string | undefined): boolean {
  const t = v?.trim();
  return t !== undefined && t !== '' && t !== 'sim';
}

/** Real when `.env` (or the environment) has the service's key, its stand-in otherwise. */
export function chooseServices(env: Env): Record<Service, Source> {
  const pick = (s: Service): Source => (serviceKeys[s].some((k) => given(env[k])) ? 'real' : 'stand-in');
  return { openai: pick('openai'), deepgram: pick('deepgram'), elevenlabs: pick('elevenlabs'), letta: pick('letta') };
}

/** What the Deepgram stand-in "hears", in order, starting again on every call. */
export const defaultTranscripts = [
  'Hello, can you hear me?',
  'What can you remember about me?',
  'Tell me something interesting about Paris.',
  'Thank you, goodbye!',
];

/** The Deepgram stand-in's script: LOCAL_TRANSCRIPTS (`|`-separated) or the default one. */
export function transcripts(env: Env): string[] {
  const own = env.LOCAL_TRANSCRIPTS?.split('|')
    .map((t) => t.trim())
    .filter(Boolean);
  return own?.length ? own : defaultTranscripts;
}

export interface PortNeed {
  /** What listens there, as the console names it. */
  name: string;
  /** The variable that moves it. */
  setting: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** The address it is bound to. */
  host: string;
}

function portOf(env: Env, setting: string, fallback: number): number {
  const raw = env[setting]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`${setting} must be a port from 1 to 65535, not ${JSON.stringify(raw)}`);
  return n;
}

/** Every fixed port `npm run local` needs (the stand-ins take free ones). */
export function localPorts(env: Env): PortNeed[] {
  const needs: PortNeed[] = [
    {
      name: 'LiveKit server (signalling)',
      setting: 'LOCAL_LIVEKIT_PORT',
      port: portOf(env, 'LOCAL_LIVEKIT_PORT', 7880),
      protocol: 'tcp',
      host: '127.0.0.1',
    },
    {
      name: 'LiveKit server (WebRTC over TCP)',
      setting: 'LOCAL_LIVEKIT_TCP_PORT',
      port: portOf(env, 'LOCAL_LIVEKIT_TCP_PORT', 7881),
      protocol: 'tcp',
      host: '0.0.0.0',
    },
    {
      name: 'LiveKit server (WebRTC over UDP)',
      setting: 'LOCAL_LIVEKIT_UDP_PORT',
      port: portOf(env, 'LOCAL_LIVEKIT_UDP_PORT', 7882),
      protocol: 'udp',
      host: '0.0.0.0',
    },
    {
      name: 'worker health server',
      setting: 'WORKER_HEALTH_PORT',
      port: portOf(env, 'WORKER_HEALTH_PORT', 8081),
      protocol: 'tcp',
      host: '0.0.0.0',
    },
    {
      name: 'join page',
      setting: 'WEB_PORT',
      port: portOf(env, 'WEB_PORT', 3000),
      protocol: 'tcp',
      host: env.WEB_HOST?.trim() || '127.0.0.1',
    },
  ];
  const metrics = env.METRICS_PORT?.trim();
  if (metrics !== 'off' && metrics !== '0') {
    needs.push({
      name: 'worker metrics',
      setting: 'METRICS_PORT',
      port: portOf(env, 'METRICS_PORT', 9464),
      protocol: 'tcp',
      host: env.METRICS_HOST?.trim() || '127.0.0.1',
    });
  }
  return needs;
}

/** The console's line for a port something else holds: what needs it and how to move it. */
export function portInUseMessage(need: PortNeed): string {
  return `port ${need.port}/${need.protocol} (${need.name}) is in use: stop what holds it, or set ${need.setting} to another port (in .env or the environment)`;
}

export interface MediaAddress {
  ip: string;
  /** The interface it belongs to; null when given by LOCAL_NODE_IP. */
  iface: string | null;
}

/**
 * The address LiveKit's server advertises for WebRTC media: LOCAL_NODE_IP, else the first
 * non-loopback IPv4 address. null when the machine has only loopback, where libwebrtc (the
 * worker's and any browser's) finds no address to send media from.
 */
export function mediaAddress(env: Env, interfaces = networkInterfaces()): MediaAddress | null {
  const chosen = env.LOCAL_NODE_IP?.trim();
  if (chosen) return { ip: chosen, iface: null };
  for (const [iface, list] of Object.entries(interfaces)) {
    const v4 = list?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return { ip: v4.address, iface };
  }
  return null;
}

/** What the console says about media, one line. */
export function mediaSituation(media: MediaAddress | null): string {
  if (media === null) {
    return (
      'this machine has only a loopback interface: WebRTC does not use loopback, so a browser can join ' +
      'but no audio can flow. Connect a network interface (no outside traffic is needed: media stays on ' +
      'this machine) or set LOCAL_NODE_IP to an address of one, then run again'
    );
  }
  const where = media.iface ? `${media.ip} (${media.iface})` : `${media.ip} (LOCAL_NODE_IP)`;
  return `WebRTC media on ${where}: a browser on this machine reaches it; nothing leaves the machine (no STUN lookups, rtc.use_external_ip off)`;
}

export interface ServerConfigInput {
  ports: { signal: number; rtcTcp: number; rtcUdp: number };
  /** The advertised media address; null falls back to 127.0.0.1 (see mediaSituation). */
  nodeIp: string | null;
  apiKey: string;
  apiSecret: string;
}

/** LiveKit's server config (JSON is YAML) for one local run. */
export function livekitServerConfig(i: ServerConfigInput): Record<string, unknown> {
  const ip = i.nodeIp ?? '127.0.0.1';
  return {
    port: i.ports.signal,
    // Signalling and the server API on loopback only: the page and the worker are on this machine.
    bind_addresses: ['127.0.0.1'],
    rtc: {
      tcp_port: i.ports.rtcTcp,
      udp_port: i.ports.rtcUdp,
      // Explicit: no interface discovery, no STUN lookup of a public address.
      node_ip: ip,
      use_external_ip: false,
      // Clients are told about this address instead of Google's and Twilio's STUN servers; a
      // call between two programs on one machine needs none, and no request leaves it.
      stun_servers: [`${ip}:3478`],
    },
    keys: { [i.apiKey]: i.apiSecret },
    // The server dispatches only to workers reporting a load (machine-wide CPU) below target_load,
    // 0.7 by default, and never retries a dispatch. On a busy laptop, or while the worker's warm
    // job process starts, that skips the only worker there is: dispatch must not depend on it.
    agents: { target_load: 100 },
    logging: { level: 'info', json: true },
    // A finished call's room closes soon, so its job ends and the worker is ready for the next.
    room: { auto_create: true, empty_timeout: 30, departure_timeout: 5 },
  };
}

/**
 * The join page's settings: the services that are stand-ins, and with the Deepgram stand-in what
 * it will "hear", so the page says recognition is simulated rather than showing those words as
 * the caller's.
 */
export function pageSettings(services: Record<Service, Source>, script: string[]): Record<string, string> {
  const standIns = (Object.keys(services) as Service[]).filter((s) => services[s] === 'stand-in');
  return {
    WEB_STAND_INS: standIns.join(','),
    WEB_SIMULATED_SPEECH: services.deepgram === 'stand-in' ? script.join('|') : '',
  };
}

/**
 * The worker's settings in local mode, on top of the merged environment: LiveKit from the local
 * server, each stand-in's URL and key, and load settings for a busy machine.
 */
export function workerSettings(o: {
  livekit: { url: string; apiKey: string; apiSecret: string };
  healthPort: number;
  services: Record<Service, Source>;
  standIns: Partial<Record<Service, string>>;
  journalDir: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    LIVEKIT_URL: o.livekit.url,
    LIVEKIT_API_KEY: o.livekit.apiKey,
    LIVEKIT_API_SECRET: o.livekit.apiSecret,
    // One warm job process is enough for one conversation (each holds about 290 MB).
    LIVEKIT_NUM_IDLE_PROCESSES: '1',
    WORKER_HEALTH_PORT: String(o.healthPort),
    MEMORY_JOURNAL_DIR: o.journalDir,
    // The warm process's "job runner initialized" line is a debug line: it is the readiness signal.
    LOG_LEVEL: 'debug',
  };
  const url = (s: Service): string => {
    const u = o.standIns[s];
    if (!u) throw new Error(`no stand-in URL for ${s}`);
    return u;
  };
  if (o.services.openai === 'stand-in') Object.assign(env, { OPENAI_API_KEY: 'sim', OPENAI_BASE_URL: url('openai') });
  if (o.services.deepgram === 'stand-in')
    Object.assign(env, { DEEPGRAM_API_KEY: 'sim', DEEPGRAM_BASE_URL: url('deepgram') });
  if (o.services.elevenlabs === 'stand-in') {
    Object.assign(env, { ELEVEN_API_KEY: 'sim', ELEVENLABS_BASE_URL: url('elevenlabs') });
  }
  if (o.services.letta === 'stand-in') Object.assign(env, { LETTA_BASE_URL: url('letta') });
  return env;
}
