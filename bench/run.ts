/**
 * Entry point of `npm run bench` (see bench/cli.ts for the verbs and bench/README.md for the
 * metrics). A run with the room scenario first re-runs itself in a network namespace of its own,
 * as the room test tier does (bench/harness/room-network.ts): WebRTC needs an address other than
 * loopback, and no packet may leave the machine.
 */
import { fileURLToPath } from 'node:url';
import { main } from './cli.ts';
import { needsRooms } from './command.ts';
import { prepareRoomNetwork, rerunInNamespace } from './harness/room-network.ts';
import { projectRoot } from './project-root.ts';

const argv = process.argv.slice(2);
if (needsRooms(argv) && prepareRoomNetwork() === 'rerun') {
  rerunInNamespace(fileURLToPath(import.meta.url), argv, projectRoot);
} else {
  const code = await main(argv);
  // Plugins and stand-ins can leave keep-alive sockets and timers behind: the report is written, so end here.
  process.exit(code);
}
