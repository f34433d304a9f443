/**
 * `npm run test:rooms`: the room tier (LiveKit's own server, the worker as a real process, Node
 * callers on @livekit/rtc-node), run by vitest with `test/rooms/vitest.config.ts`, in a network
 * namespace of its own (or on the host network with `ROOMS_NETWORK=host`; see
 * bench/harness/room-network.ts). Extra arguments go to vitest.
 */
import { fileURLToPath } from 'node:url';
import { become, rerunInNamespace, roomNetwork } from '../../bench/harness/room-network.ts';
import { projectRoot } from '../helpers/run.ts';

const args = process.argv.slice(2);
const network = roomNetwork();
if (network.state === 'outside') {
  rerunInNamespace(fileURLToPath(import.meta.url), args, projectRoot);
} else {
  const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
  become(
    process.execPath,
    [vitest, 'run', '--config', 'test/rooms/vitest.config.ts', ...args],
    process.env,
    projectRoot,
  );
}
