/** What `npm run local` prints: one status line per part, and a failure that ends the run. */
import { relative } from 'node:path';

export const rel = (p: string) => relative(process.cwd(), p) || '.';

export const say = (line: string) => process.stdout.write(`${line}\n`);
export const status = (part: string, text: string) => say(`  ${part.padEnd(11)} ${text}`);

/** Thrown once a part's failure has been said: the run stops without a stack trace. */
export class Abort extends Error {}

export const fail = (part: string, text: string): never => {
  status(part, `FAILED: ${text}`);
  throw new Abort();
};
