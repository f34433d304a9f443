/** Entry point of `npm run bench` (see bench/cli.ts for the verbs and bench/README.md for the metrics). */
import { main } from './cli.ts';

const code = await main(process.argv.slice(2));
// Plugins and stand-ins can leave keep-alive sockets and timers behind: the report is written, so end here.
process.exit(code);
