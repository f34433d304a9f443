/**
 * LiveKit's own server for one room test file or one bench run: a config of its own (every port
 * free, media on the room network's address, no STUN server outside it), started, restarted and
 * stopped as a child process.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../project-root.ts';
import { nodeIp } from './room-network.ts';

export interface LiveKitServer {
  /** What the worker and callers use as LIVEKIT_URL. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Everything the server printed, in order. */
  log: string[];
  /** The running server's process id, or null while it is stopped. */
  pid(): number | null;
  /** Stops and starts it again with the same config and ports (rooms and registrations are lost). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const serverScript = join(projectRoot, 'scripts/livekit-server.sh');

/** The pinned server: LIVEKIT_SERVER_BIN, else what scripts/livekit-server.sh finds or builds. */
function serverBinary(): string {
  const given = process.env.LIVEKIT_SERVER_BIN?.trim();
  if (given) return given;
  const out = execFileSync('bash', [serverScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = out.trim().split('\n').at(-1);
  if (!path) throw new Error('scripts/livekit-server.sh printed no path');
  process.env.LIVEKIT_SERVER_BIN = path;
  return path;
}

/**
 * Why there is no server to run without building one (minutes of Go), or null when there is:
 * LIVEKIT_SERVER_BIN, or the pinned version on PATH or in the cache.
 */
export function noServerReason(): string | null {
  if (process.env.LIVEKIT_SERVER_BIN?.trim()) return null;
  const r = spawnSync('bash', [serverScript, '--no-build'], { encoding: 'utf8' });
  const path = r.status === 0 ? r.stdout.trim().split('\n').at(-1) : undefined;
  if (path) {
    process.env.LIVEKIT_SERVER_BIN = path;
    return null;
  }
  return r.stderr.trim() || 'no livekit-server binary (bash scripts/livekit-server.sh builds it)';
}

function freePort(kind: 'tcp' | 'udp', host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (kind === 'tcp') {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    } else {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, host, () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    }
  });
}

/** One node of several (LiveKit's multi-node mode): they share a Redis and a key pair. */
export interface ClusterNode {
  /** host:port of the Redis every node of the cluster uses for routing and its message bus. */
  redisAddress: string;
  apiSecret: string;
  /** This node's region, which also names its config file. */
  name: string;
  /** Every node's region, in order. */
  regions: string[];
}

/** A config of its own: free ports, media on the room network's address, a fresh key pair (or the cluster's). */
export async function startLiveKitServer(dir: string, node?: ClusterNode): Promise<LiveKitServer> {
  // A port found free can be taken by another program before the server binds it (other tests
  // run beside this one): then new ports, up to three times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWithFreePorts(dir, node);
    } catch (err) {
      if (attempt >= 3 || !(err as Error).message.includes('address already in use')) throw err;
    }
  }
}

async function startWithFreePorts(dir: string, node: ClusterNode | undefined): Promise<LiveKitServer> {
  const ip = nodeIp();
  const [port, tcpPort, udpPort] = await Promise.all([freePort('tcp', ip), freePort('tcp', ip), freePort('udp', ip)]);
  const apiKey = 'roomtest';
  const apiSecret = node?.apiSecret ?? randomBytes(24).toString('hex');
  // JSON is YAML: the server reads this file like livekit.yaml.
  const config = {
    port,
    bind_addresses: [ip],
    rtc: {
      tcp_port: tcpPort,
      udp_port: udpPort,
      // Explicit: no interface discovery, no STUN lookup of an external address.
      node_ip: ip,
      use_external_ip: false,
      // Clients are told about this STUN server instead of Google's and Twilio's; nothing listens
      // there, and it is inside the room network, so a binding request goes nowhere else.
      stun_servers: [`${ip}:3478`],
    },
    keys: { [apiKey]: apiSecret },
    // With Redis the server runs in multi-node mode: rooms are placed on any node (at random by
    // default), signalling is relayed to a room's node, and agent jobs go to workers on any node.
    ...(node ? { redis: { address: node.redisAddress } } : {}),
    // One region per node, each far from the others: a room goes to the node whose signalling its
    // first participant reached, so the tests know where a room is (placement is random otherwise).
    // Load never moves a room here: these nodes share 2 cores.
    ...(node
      ? {
          region: node.name,
          node_selector: {
            kind: 'regionaware',
            sysload_limit: 1000,
            regions: node.regions.map((name, i) => ({ name, lat: 0, lon: i * 60 })),
          },
        }
      : {}),
    // The server dispatches only to workers whose reported load (machine-wide CPU) is below this
    // (0.7 by default) and never retries. Rooms share 2 cores with other work, so dispatch
    // must not depend on what else the machine is doing: a worker's own threshold still applies.
    agents: { target_load: 100 },
    logging: { level: 'info', json: true },
    // A room nobody joined closes soon. The departure timeout stays LiveKit's (20 s): the worker
    // ends a call's job when its caller hangs up, and the tests check that it does.
    room: { auto_create: true, empty_timeout: 5 },
  };
  const configPath = join(dir, `livekit-server${node ? `-${node.name}` : ''}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return runLiveKitServer(configPath, {
    url: `ws://${ip}:${port}`,
    httpUrl: `http://${ip}:${port}/`,
    apiKey,
    apiSecret,
  });
}

/** Runs the server with a given config file, e.g. the project's livekit.yaml. */
export async function runLiveKitServer(
  configPath: string,
  where: { url: string; httpUrl: string; apiKey: string; apiSecret: string },
): Promise<LiveKitServer> {
  const bin = serverBinary();
  const log: string[] = [];
  let child: ChildProcess | null = null;
  const { httpUrl } = where;

  const start = async () => {
    const proc = spawn(bin, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const keep = (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`livekit-server exited at start:\n${log.slice(-20).join('\n')}`);
      const up = await fetch(httpUrl).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      if (Date.now() > deadline) throw new Error(`livekit-server not up within 30 s:\n${log.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // A first SIGTERM waits for rooms to empty; a second one stops at once. SIGKILL is the backstop.
    proc.kill('SIGTERM');
    const second = setTimeout(() => proc.kill('SIGTERM'), 3000);
    const last = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(second);
    clearTimeout(last);
  };

  await start();
  return {
    url: where.url,
    apiKey: where.apiKey,
    apiSecret: where.apiSecret,
    log,
    pid: () => child?.pid ?? null,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}
