/**
 * `npm run test:rooms`: the room tier (LiveKit's own server, the worker as a real process, Node
 * callers on @livekit/rtc-node), run by vitest with `test/rooms/vitest.config.ts`.
 *
 * libwebrtc ignores loopback interfaces, so peers that only have 127.0.0.1 find no ICE candidates.
 * By default the tier therefore re-runs itself in a network namespace of its own (`unshare -n`):
 * `lo` up plus a veth pair, 10.77.0.1/24 and 10.77.0.2/24, both ends inside. The namespace has no
 * route anywhere else, so no packet of the tier can leave it. Extra arguments go to vitest.
 *
 * `ROOMS_NETWORK=host` runs on the host network instead (a developer's machine without
 * `unshare`): the server advertises `ROOMS_NODE_IP`, or this machine's first non-loopback IPv4
 * address, and media stays on this machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../helpers/run.ts';
import { netnsAddresses } from './network.ts';

const args = process.argv.slice(2);
const mode = process.env.ROOMS_NETWORK ?? 'netns';

function run(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/** Runs to completion and exits with the child's code. */
function become(cmd: string, argv: string[], env: NodeJS.ProcessEnv): void {
  const child = spawn(cmd, argv, { stdio: 'inherit', env, cwd: projectRoot });
  // Ctrl+C reaches the child through the terminal; SIGTERM from a CI runner is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
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

function runVitest(nodeIp: string): void {
  const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
  become(process.execPath, [vitest, 'run', '--config', 'test/rooms/vitest.config.ts', ...args], {
    ...process.env,
    ROOMS_NODE_IP: nodeIp,
  });
}

if (mode === 'host') {
  runVitest(hostAddress());
} else if (mode !== 'netns') {
  throw new Error(`ROOMS_NETWORK must be netns (default) or host, not ${JSON.stringify(mode)}`);
} else if (process.env.ROOMS_IN_NETNS === '1') {
  setUpNamespace();
  runVitest(netnsAddresses.server);
} else {
  // Root (CI) creates the namespace directly; anyone else maps themselves to root in a user namespace.
  const asRoot = process.getuid?.() === 0 ? [] : ['--map-root-user'];
  become('unshare', ['--net', ...asRoot, '--', process.execPath, fileURLToPath(import.meta.url), ...args], {
    ...process.env,
    ROOMS_IN_NETNS: '1',
  });
}
