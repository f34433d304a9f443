/**
 * `npm run memory -- status [--json]` and `npm run memory -- replay-dead-letters`: what the
 * configured journal (MEMORY_JOURNAL_DIR, or the Redis journal of MEMORY_JOURNAL_URL) holds, and
 * dead letters put back for the workers to send once their cause is fixed.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config.ts';
import type { JournalStatus } from '../memory/journal/journal.ts';
import { openJournal } from '../memory/journal/open-journal.ts';
import { createLogger } from '../telemetry/logger.ts';

const usage = `Usage: npm run memory -- <command> [options]

Commands:
  status                what the journal holds: turns not yet in Letta, the oldest of them, dead letters
  replay-dead-letters   put every dead letter back as the batch it was; a worker sends it (exactly once)

Options:
  --json                status as one JSON line
  --help                show this help

The journal is the one the worker uses: MEMORY_JOURNAL_URL (Redis) if set, else MEMORY_JOURNAL_DIR.
`;

type Command = { verb: 'status'; json: boolean } | { verb: 'replay-dead-letters' } | { verb: 'help' };

class UsageError extends Error {}

export function parseMemoryArgs(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { verb: 'help' };
  const [verb, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`);
  if (verb === 'status') return { verb, json: values.json ?? false };
  if (verb === 'replay-dead-letters') {
    if (values.json) throw new UsageError('--json applies to status');
    return { verb };
  }
  throw new UsageError(verb === undefined ? 'missing a command' : `unknown command ${verb}`);
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function describeStatus(s: JournalStatus, now = Date.now()): string {
  const oldest =
    s.oldestPendingAt === null
      ? 'none'
      : `${new Date(s.oldestPendingAt).toISOString()} (${age(now - s.oldestPendingAt)} ago)`;
  return [
    `journal:             ${s.where}`,
    `turns not in Letta:  ${s.pendingTurns}`,
    `oldest of them:      ${oldest}`,
    `dead letters:        ${s.deadLetters}${s.deadLetters > 0 ? ' (after fixing the cause: npm run memory -- replay-dead-letters)' : ''}`,
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  let cmd: Command;
  try {
    cmd = parseMemoryArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`memory: ${err.message}\n\n${usage}`);
    process.exit(2);
  }
  if (cmd.verb === 'help') {
    process.stdout.write(usage);
    return;
  }
  const config = loadConfigOrExit('memory');
  const logger = createLogger({ level: config.logLevel, name: 'memory-cli', secrets: config.secrets });
  const journal = openJournal(config.letta, logger);
  try {
    if (cmd.verb === 'status') {
      const s = await journal.status();
      process.stdout.write(cmd.json ? `${JSON.stringify(s)}\n` : describeStatus(s));
    } else {
      const r = await journal.requeueDeadLetters();
      process.stdout.write(
        r.letters === 0
          ? 'memory: no dead letters to replay\n'
          : `memory: ${r.letters} dead letter(s), ${r.turns} turn(s) back in the journal (${journal.where}); a running worker sends them, each once\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`memory: could not read the journal at ${journal.where}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await journal.close();
  }
}

if (import.meta.main) await main(process.argv.slice(2));
