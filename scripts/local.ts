/**
 * `npm run local`: everything a spoken conversation on this machine needs, then ONE URL to open.
 * LiveKit's server at the pinned version with a config of its own, the real OpenAI, Deepgram,
 * ElevenLabs and Letta where `.env` has their keys and the stand-ins from sim/ where it does not,
 * the worker under `start` (a warm job process, load settings for a busy machine) and the join
 * page. The URL is printed once every part answers and the worker can take a call. Ctrl-C stops
 * everything it started. One status line per part here; the rest goes to .cache/local/logs/.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import {
  type DeepgramStandIn,
  type StandIn,
  profiles,
  startDeepgramStandIn,
  startElevenLabsStandIn,
  startLettaStandIn,
  startOpenAIStandIn,
} from '../sim/index.ts';
import {
  type Env,
  type PortNeed,
  type Service,
  type Source,
  chooseServices,
  livekitServerConfig,
  localPorts,
  mediaAddress,
  mediaSituation,
  mergeEnv,
  pageSettings,
  portInUseMessage,
  serviceKeys,
  serviceNames,
  transcripts,
  workerSettings,
} from './local/plan.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(root, '.cache/local');
const logDir = join(cacheDir, 'logs');
const rel = (p: string) => relative(process.cwd(), p) || '.';
const started = performance.now();

const say = (line: string) => process.stdout.write(`${line}\n`);
const status = (part: string, text: string) => say(`  ${part.padEnd(11)} ${text}`);

class Abort extends Error {}
const fail = (part: string, text: string): never => {
  status(part, `FAILED: ${text}`);
  throw new Abort();
};

// --- what runs, and how to stop it ----------------------------------------------------------------

interface Child {
  name: string;
  proc: ChildProcess;
  /** How it is asked to stop (its whole process group is signalled). */
  stopSignal: NodeJS.Signals;
  exited: Promise<void>;
}
const children: Child[] = [];
const standIns: StandIn[] = [];
let stopping = false;
/** The fixed ports of this run, checked again once everything has stopped. */
let ours: PortNeed[] = [];

function logFile(name: string): { path: string; fd: number } {
  const path = join(logDir, `${name}.log`);
  return { path, fd: openSync(path, 'w') };
}

/** A child in a process group of its own, stdout and stderr to its log file (and to `onLine`). */
function startChild(
  name: string,
  cmd: string,
  argv: string[],
  env: Env,
  log: string,
  stopSignal: NodeJS.Signals,
  onLine?: (line: string) => void,
): Child {
  const { fd } = logFile(log);
  const proc = spawn(cmd, argv, {
    cwd: root,
    env: env,
    stdio: ['ignore', onLine ? 'pipe' : fd, onLine ? 'pipe' : fd],
    detached: true,
  });
  if (onLine) {
    const lines = (stream: NodeJS.ReadableStream | null) => {
      let rest = '';
      stream?.on('data', (d: Buffer) => {
        writeFileSync(fd, d);
        const got = (rest + d.toString()).split('\n');
        rest = got.pop() ?? '';
        for (const l of got) onLine(l);
      });
    };
    lines(proc.stdout);
    lines(proc.stderr);
  }
  // 'close', not 'exit': output still in the pipes is written before the log file closes.
  const exited = new Promise<void>((resolve) =>
    proc.once('close', (code, signal) => {
      closeSync(fd);
      if (!stopping) status(name, `exited (${signal ?? `code ${code}`}): see ${rel(join(logDir, `${log}.log`))}`);
      resolve();
    }),
  );
  if (proc.pid) recordGroup(proc.pid, [cmd, ...argv].join(' '));
  const child = { name, proc, stopSignal, exited };
  children.push(child);
  return child;
}

/**
 * The process groups of this run, in a file: a launcher killed outright (SIGKILL) cannot stop its
 * children, so the next run stops what the file names first, if it is still the same command.
 */
const groupsFile = join(cacheDir, 'process-groups.json');
const groups: { pgid: number; cmdline: string }[] = [];
function recordGroup(pgid: number, cmdline: string): void {
  groups.push({ pgid, cmdline });
  writeFileSync(groupsFile, JSON.stringify(groups));
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

async function stopLeftovers(): Promise<void> {
  if (!existsSync(groupsFile)) return;
  let left: { pgid: number; cmdline: string }[] = [];
  try {
    left = JSON.parse(readFileSync(groupsFile, 'utf8')) as typeof left;
  } catch {
    // An unreadable file names nothing.
  }
  for (const g of left) {
    // Same pid and the same command: still the earlier run's process, not a reused pid.
    if (cmdlineOf(g.pgid) !== g.cmdline) continue;
    status('leftovers', `stopping process group ${g.pgid} of an earlier run (${g.cmdline.slice(0, 60)})`);
    try {
      process.kill(-g.pgid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  await sleep(500);
  writeFileSync(groupsFile, '[]');
}

function signalGroup(c: Child, sig: NodeJS.Signals | 0): boolean {
  if (!c.proc.pid) return false;
  try {
    process.kill(-c.proc.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Its stop signal to the whole group, again after 3 s (LiveKit's server stops at once on a second), SIGKILL after 15 s. */
async function stopChild(c: Child): Promise<void> {
  signalGroup(c, c.stopSignal);
  const again = setTimeout(() => signalGroup(c, c.stopSignal), 3000);
  const deadline = Date.now() + 15_000;
  // The group, not only its leader: the worker's job and inference processes must go too.
  while (signalGroup(c, 0) && Date.now() < deadline) await sleep(100);
  clearTimeout(again);
  signalGroup(c, 'SIGKILL');
  await c.exited;
}

async function stopAll(): Promise<void> {
  stopping = true;
  for (const c of children.splice(0).reverse()) await stopChild(c);
  for (const s of standIns.splice(0).reverse()) await s.close().catch(() => undefined);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it gives a value; fails when `child` exits first or time runs out. */
async function until<T>(
  part: string,
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  child?: Child,
  log?: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void child?.exited.then(() => (gone = true));
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    const see = log ? `; see ${rel(join(logDir, `${log}.log`))}` : '';
    if (gone) fail(part, `exited before ${what}${see}`);
    if (Date.now() > deadline) fail(part, `no ${what} within ${timeoutMs / 1000} s${see}`);
    await sleep(250);
  }
}

const httpOk = async (url: string): Promise<true | undefined> => ((await fetch(url)).ok ? true : undefined);

// --- ports ------------------------------------------------------------------------------------

function portFree(need: PortNeed): Promise<boolean> {
  return new Promise((resolve) => {
    if (need.protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(need.port, need.host, () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(need.port, need.host, () => s.close(() => resolve(true)));
    }
  });
}

async function portsInUse(wanted: PortNeed[]): Promise<PortNeed[]> {
  const busy: PortNeed[] = [];
  for (const n of wanted) if (!(await portFree(n))) busy.push(n);
  return busy;
}

// --- LiveKit's server binary ------------------------------------------------------------------

function serverBinary(): string {
  const given = process.env.LIVEKIT_SERVER_BIN?.trim();
  if (given) return given;
  const script = join(root, 'scripts/livekit-server.sh');
  const found = spawnSync('bash', [script, '--no-build'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n').at(-1);
  if (found.status === 0 && path) return path;
  if (spawnSync('go', ['version']).status !== 0) {
    fail(
      'livekit',
      'livekit-server 1.13.5 is not on PATH or in .cache/livekit-server/, and Go is not installed to build it. ' +
        'Install Go (https://go.dev/dl/, or your package manager: apt-get install golang-go, brew install go) and run ' +
        'npm run local again (the first build takes a few minutes), or set LIVEKIT_SERVER_BIN to a livekit-server 1.13.5. ' +
        'LiveKit Cloud needs no local server: see docs/deploy.md#livekit-cloud',
    );
  }
  const { path: buildLog, fd } = logFile('livekit-build');
  status('livekit', `building livekit-server 1.13.5 with Go, first time only (a few minutes): ${rel(buildLog)}`);
  const built = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  const out = built.stdout.trim().split('\n').at(-1);
  if (built.status !== 0 || !out) fail('livekit', `the build failed: see ${rel(buildLog)}`);
  return out!;
}

// --- the run ----------------------------------------------------------------------------------

async function main(): Promise<string> {
  mkdirSync(logDir, { recursive: true });
  const envPath = join(root, '.env');
  const dotEnv = existsSync(envPath) ? parseEnv(readFileSync(envPath, 'utf8')) : {};
  const env = mergeEnv(process.env, dotEnv);
  say(`npm run local: a spoken conversation on this machine (logs in ${rel(logDir)}/)`);
  await stopLeftovers();

  let needs: PortNeed[];
  try {
    needs = localPorts(env);
  } catch (err) {
    return fail('ports', (err as Error).message);
  }
  const busy = await portsInUse(needs);
  for (const b of busy) status('ports', portInUseMessage(b));
  if (busy.length) throw new Abort();
  ours = needs;
  const port = (setting: string) => needs.find((n) => n.setting === setting)!.port;

  const media = mediaAddress(env);
  status('network', mediaSituation(media));

  // The stand-ins, in this process; the real services as .env gives them.
  const services = chooseServices(env);
  const urls: Partial<Record<Service, string>> = {};
  const profile = profiles.seed;
  let deepgram: DeepgramStandIn | undefined;
  const script = transcripts(env);
  for (const s of ['openai', 'deepgram', 'elevenlabs', 'letta'] as const) {
    const source: Source = services[s];
    if (source === 'real') {
      status(serviceNames[s], `real service (${serviceKeys[s].filter((k) => env[k]?.trim()).join(', ')} set)`);
      continue;
    }
    let standIn: StandIn;
    if (s === 'openai') {
      const o = await startOpenAIStandIn({ profile });
      urls.openai = o.url;
      standIn = o;
    } else if (s === 'deepgram') {
      deepgram = await startDeepgramStandIn({ profile, transcripts: script, scriptScope: 'connection' });
      urls.deepgram = deepgram.url;
      standIn = deepgram;
    } else if (s === 'elevenlabs') {
      const e = await startElevenLabsStandIn({ profile });
      urls.elevenlabs = `${e.url}`;
      standIn = e;
    } else {
      const l = await startLettaStandIn({ profile, ...(urls.openai ? { modelBaseUrl: urls.openai } : {}) });
      urls.letta = l.url;
      standIn = l;
    }
    standIns.push(standIn);
    // Up means it answers HTTP (any status: the Deepgram stand-in serves only its WebSocket).
    await until(serviceNames[s], 'answer', async () => (await fetch(standIn.url.replace(/^ws/, 'http'))) && true, 5000);
    const keys = serviceKeys[s].join(' or ');
    status(serviceNames[s], `stand-in from sim/ at ${standIn.url} (no ${keys} in .env)`);
  }
  if (deepgram) {
    status(
      'Deepgram',
      'speech recognition is SIMULATED: it hears when you speak, not your words. Each call, your utterances are "heard" as, in order (then again from the top):',
    );
    script.forEach((t, i) => say(`                ${i + 1}. "${t}"`));
    status('', 'LOCAL_TRANSCRIPTS="first|second|..." in .env sets your own; DEEPGRAM_API_KEY uses the real service');
  }

  // LiveKit's server, with a config and a key pair of this run.
  const bin = serverBinary();
  const apiKey = 'local';
  const apiSecret = randomBytes(24).toString('hex');
  const signal = port('LOCAL_LIVEKIT_PORT');
  const configPath = join(cacheDir, 'livekit-server.json');
  const config = livekitServerConfig({
    ports: { signal, rtcTcp: port('LOCAL_LIVEKIT_TCP_PORT'), rtcUdp: port('LOCAL_LIVEKIT_UDP_PORT') },
    nodeIp: media?.ip ?? null,
    apiKey,
    apiSecret,
  });
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const server = startChild('livekit', bin, ['--config', configPath], env, 'livekit-server', 'SIGTERM');
  const livekitUrl = `ws://127.0.0.1:${signal}`;
  await until(
    'livekit',
    'answer on its HTTP port',
    () => httpOk(`http://127.0.0.1:${signal}/`),
    30_000,
    server,
    'livekit-server',
  );
  status('livekit', `livekit-server 1.13.5 up at ${livekitUrl} (config ${rel(configPath)})`);

  // The worker, as npm start runs it, pointed at all of the above.
  const healthPort = port('WORKER_HEALTH_PORT');
  const workerEnv: Env = {
    ...env,
    ...workerSettings({
      livekit: { url: livekitUrl, apiKey, apiSecret },
      healthPort,
      services,
      standIns: urls,
      journalDir: join(cacheDir, 'journal'),
    }),
  };
  let registered = false;
  let warm = 0;
  const worker = startChild(
    'worker',
    process.execPath,
    ['src/main.ts', 'start'],
    workerEnv,
    'worker',
    'SIGINT',
    (line) => {
      if (line.includes('"registered worker"')) registered = true;
      // A job process has finished its prewarm and waits, idle, for a call.
      if (line.includes('"job runner initialized"')) warm++;
    },
  );
  const health = `http://127.0.0.1:${healthPort}/`;
  await until(
    'worker',
    'registration with the server and an idle warm job process',
    async () => (registered && warm >= 1 ? httpOk(health) : undefined),
    180_000,
    worker,
    'worker',
  );
  status('worker', `registered (npm start mode), 1 warm job process idle; health ${health}`);

  // The join page.
  const webPort = port('WEB_PORT');
  const webHost = env.WEB_HOST?.trim() || '127.0.0.1';
  const web = startChild(
    'join page',
    process.execPath,
    ['src/web/main.ts'],
    {
      ...env,
      LIVEKIT_URL: livekitUrl,
      LIVEKIT_API_KEY: apiKey,
      LIVEKIT_API_SECRET: apiSecret,
      WEB_PORT: String(webPort),
      ...pageSettings(services, script),
    },
    'web',
    'SIGTERM',
  );
  const pageHost =
    webHost === '0.0.0.0' || webHost === '::' ? '127.0.0.1' : webHost.includes(':') ? `[${webHost}]` : webHost;
  const page = `http://${pageHost}:${webPort}/`;
  await until('join page', 'answer', () => httpOk(page), 30_000, web, 'web');
  status('join page', `up (token endpoint ${page}api/token)`);

  if (deepgram) {
    // What the stand-in "heard", as it happens.
    const dg = deepgram;
    let shown = 0;
    setInterval(() => {
      for (const u of dg.utterances.slice(shown)) {
        if (u.finalSentAt === null) break;
        shown++;
        if (u.transcript) status('Deepgram', `heard (simulated): "${u.transcript}"`);
      }
    }, 500).unref();
  }
  return page;
}

async function shutDown(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  if (ours.length === 0 && standIns.length === 0) process.exit(code);
  say('stopping ...');
  await stopAll();
  writeFileSync(groupsFile, '[]');
  const left = await portsInUse(ours);
  if (left.length) for (const n of left) say(`  still in use after stopping: port ${n.port}/${n.protocol} (${n.name})`);
  else say(`stopped: every process it started has exited, and none of its ports is in use`);
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void shutDown(0));
// A fault of the launcher itself must not leave its children running.
process.on('uncaughtException', (err) => {
  say(`npm run local: ${err.stack ?? String(err)}`);
  void shutDown(1);
});

try {
  const page = await main();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  say(
    `\nOpen ${page} in a browser on this machine, press Join and talk. (ready in ${seconds} s; Ctrl-C stops everything)`,
  );
  // A part that dies later ends the run: a half-up conversation only confuses.
  for (const c of children) void c.exited.then(() => (stopping ? undefined : shutDown(1)));
} catch (err) {
  if (!(err instanceof Abort)) say(`npm run local: ${(err as Error).stack ?? String(err)}`);
  await shutDown(1);
}
