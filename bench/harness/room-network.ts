/**
 * The network real rooms run on, shared by the room test tier and the bench's room scenario.
 *
 * libwebrtc ignores loopback interfaces, so peers that only have 127.0.0.1 find no ICE candidates.
 * By default a program that needs rooms therefore re-runs itself in a network namespace of its own
 * (`unshare -n`): `lo` up plus a veth pair, 10.77.0.1/24 and 10.77.0.2/24, both ends inside. The
 * namespace has no route anywhere else, so no packet of it can leave.
 *
 * `ROOMS_NETWORK=host` runs on the host network instead (a developer's machine without
 * `unshare`): the server advertises `ROOMS_NODE_IP`, or this machine's first non-loopback IPv4
 * address, and media stays on this machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** The veth pair inside the namespace: the server's end and the other end. */
export const netnsAddresses = { server: '10.77.0.1', peer: '10.77.0.2' } as const;

/**
 * The address the server advertises for media and listens on for signalling, set once the room
 * network is ready; a program started some other way (plain `vitest`) fails here with the way to run it.
 */
export function nodeIp(): string {
  const ip = process.env.ROOMS_NODE_IP;
  if (!ip) throw new Error('real rooms need their network: run through `npm run test:rooms` or `npm run bench`');
  return ip;
}

function run(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

function setUpNamespace(): void {
  const { server, peer } = netnsAddresses;
  run('ip', ['link', 'set', 'lo', 'up']);
  run('ip', ['link', 'add', 'lkr0', 'type', 'veth', 'peer', 'name', 'lkr1']);
  run('ip', ['addr', 'add', `${server}/24`, 'dev', 'lkr0']);
  run('ip', ['addr', 'add', `${peer}/24`, 'dev', 'lkr1']);
  run('ip', ['link', 'set', 'lkr0', 'up']);
  run('ip', ['link', 'set', 'lkr1', 'up']);
}

function hostAddress(): string {
  const chosen = process.env.ROOMS_NODE_IP?.trim();
  if (chosen) return chosen;
  for (const list of Object.values(networkInterfaces())) {
    const v4 = list?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  throw new Error('ROOMS_NETWORK=host: no non-loopback IPv4 address; set ROOMS_NODE_IP');
}

/** Root (CI) creates the namespace directly; anyone else maps themselves to root in a user namespace. */
function unshareArgs(): string[] {
  return ['--net', ...(process.getuid?.() === 0 ? [] : ['--map-root-user'])];
}

/** Why a namespace cannot be made here (no `unshare`, no `ip`, user namespaces off), or null. */
export function namespaceUnavailable(): string | null {
  const probe = spawnSync('unshare', [...unshareArgs(), '--', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  const why = probe.error?.message ?? (probe.stderr.trim() || `exit ${probe.status}`);
  return `cannot create a network namespace for WebRTC (unshare --net, ip): ${why}; ROOMS_NETWORK=host runs on the host network instead`;
}

/**
 * Where this process stands: `ready` with the node IP to advertise (inside the namespace, or on
 * the host network when asked), or `outside` when it has yet to re-run itself in a namespace.
 * Inside a fresh namespace the first call sets the network up.
 */
export function roomNetwork(): { state: 'ready'; nodeIp: string } | { state: 'outside' } {
  const mode = process.env.ROOMS_NETWORK ?? 'netns';
  if (mode === 'host') return ready(hostAddress());
  if (mode !== 'netns') throw new Error(`ROOMS_NETWORK must be netns (default) or host, not ${JSON.stringify(mode)}`);
  if (process.env.ROOMS_IN_NETNS !== '1') return { state: 'outside' };
  // Once per namespace: the program it re-runs (vitest, say) inherits the environment.
  if (process.env.ROOMS_NETNS_READY !== '1') {
    setUpNamespace();
    process.env.ROOMS_NETNS_READY = '1';
  }
  return ready(netnsAddresses.server);
}

function ready(ip: string): { state: 'ready'; nodeIp: string } {
  process.env.ROOMS_NODE_IP = ip;
  return { state: 'ready', nodeIp: ip };
}

/**
 * For a program that needs rooms only for some of its work (the bench): `rerun` when it should
 * re-run itself in a namespace, otherwise `here`, with the network ready or, when no namespace
 * can be made, the reason in ROOMS_UNAVAILABLE for roomsUnavailable() to give.
 */
export function prepareRoomNetwork(): 'rerun' | 'here' {
  if (roomNetwork().state === 'ready') return 'here';
  const why = namespaceUnavailable();
  if (why === null) return 'rerun';
  process.env.ROOMS_UNAVAILABLE = why;
  return 'here';
}

/** Why real rooms cannot run in this process, or null when their network is ready. */
export function roomsUnavailable(): string | null {
  if (process.env.ROOMS_UNAVAILABLE) return process.env.ROOMS_UNAVAILABLE;
  return process.env.ROOMS_NODE_IP
    ? null
    : 'no room network: rooms run through `npm run bench` or `npm run test:rooms`';
}

/** Runs a command to completion in `cwd` and exits with its code; SIGTERM from a CI runner is passed on. */
export function become(cmd: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string): void {
  const child = spawn(cmd, argv, { stdio: 'inherit', env, cwd });
  // Ctrl+C reaches the child through the terminal.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/** Re-runs this Node script with `args` inside a new network namespace, and exits with its code. */
export function rerunInNamespace(script: string, args: string[], cwd: string): void {
  become(
    'unshare',
    [...unshareArgs(), '--', process.execPath, script, ...args],
    { ...process.env, ROOMS_IN_NETNS: '1' },
    cwd,
  );
}
