/**
 * `npm run local`: everything a spoken conversation on this machine needs, then ONE URL to open.
 * LiveKit's server at the pinned version with a config of its own, the real OpenAI, Deepgram,
 * ElevenLabs and Letta where `.env` has their keys and the stand-ins from sim/ where it does not,
 * the worker under `start` (a warm job process, load settings for a busy machine) and the join
 * page. The URL is printed once every part answers and the worker can take a call. Ctrl-C stops
 * everything it started. One status line per part here; the rest goes to .cache/local/logs/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { Abort, fail, rel, say, status } from './local/console.ts';
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
import { portsInUse } from './local/ports.ts';
import { serverBinary } from './local/server-binary.ts';
import { Supervisor } from './local/supervisor.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(root, '.cache/local');
const logDir = join(cacheDir, 'logs');
const started = performance.now();

const run = new Supervisor({ root, logDir, groupsFile: join(cacheDir, 'process-groups.json') });
/** The fixed ports of this run, checked again once everything has stopped. */
let ours: PortNeed[] = [];

const httpOk = async (url: string): Promise<true | undefined> => ((await fetch(url)).ok ? true : undefined);

// --- the run ----------------------------------------------------------------------------------

async function main(): Promise<string> {
  mkdirSync(logDir, { recursive: true });
  const envPath = join(root, '.env');
  const dotEnv = existsSync(envPath) ? parseEnv(readFileSync(envPath, 'utf8')) : {};
  const env = mergeEnv(process.env, dotEnv);
  say(`npm run local: a spoken conversation on this machine (logs in ${rel(logDir)}/)`);
  await run.stopLeftovers();

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
    run.standIns.push(standIn);
    // Up means it answers HTTP (any status: the Deepgram stand-in serves only its WebSocket).
    await run.until(
      serviceNames[s],
      'answer',
      async () => (await fetch(standIn.url.replace(/^ws/, 'http'))) && true,
      5000,
    );
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
  const bin = serverBinary(root, (name) => run.logFile(name));
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
  const server = run.startChild('livekit', bin, ['--config', configPath], env, 'livekit-server', 'SIGTERM');
  const livekitUrl = `ws://127.0.0.1:${signal}`;
  await run.until(
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
  const worker = run.startChild(
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
  await run.until(
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
  const web = run.startChild(
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
  await run.until('join page', 'answer', () => httpOk(page), 30_000, web, 'web');
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
  if (run.stopping) return new Promise<never>(() => undefined);
  if (ours.length === 0 && run.standIns.length === 0) process.exit(code);
  say('stopping ...');
  await run.stopAll();
  run.forgetGroups();
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
  for (const c of run.children) void c.exited.then(() => (run.stopping ? undefined : shutDown(1)));
} catch (err) {
  if (!(err instanceof Abort)) say(`npm run local: ${(err as Error).stack ?? String(err)}`);
  await shutDown(1);
}
