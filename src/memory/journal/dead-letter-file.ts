/**
 * The file journal's dead letters: batches Letta refused for good, one JSON line each in
 * `dead-letter.jsonl`, kept until an operator requeues them into the journal (`npm run memory`).
 */
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../telemetry/logger.ts';
import type { DeadLetter } from './journal.ts';
import { JournalFile, type JournalOptions, syncDir } from './process-file.ts';

export const deadLetterFile = 'dead-letter.jsonl';

/** The dead letters in `dir`, in the order they were written; corrupt lines are skipped and reported. */
export async function readDeadLetters(dir: string, logger?: Logger, file = deadLetterFile): Promise<DeadLetter[]> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: DeadLetter[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const d = JSON.parse(line) as DeadLetter;
      if (typeof d.batchId === 'string' && typeof d.agentId === 'string' && Array.isArray(d.turns)) {
        out.push(d);
        return;
      }
    } catch {
      // Reported below.
    }
    logger?.warn({ event: 'dead_letter_corrupt_line', line: i + 1 }, `skipped corrupt line ${i + 1} of ${file}`);
  });
  return out;
}

/**
 * Puts every dead letter back into the journal as the batch it was (same id), so that a writer
 * sends it again once its cause is fixed. The letters file is renamed first (atomic: letters that
 * come meanwhile start a new file), then the batches are journaled, then the renamed file goes.
 * Exactly once even if this is interrupted and run again: a requeued batch is in doubt, and its
 * writer finds it in Letta (its otid) before sending it a second time.
 */
export async function requeueDeadLetterFile(
  dir: string,
  opts: JournalOptions = {},
): Promise<{ letters: number; turns: number }> {
  const taken = `dead-letter.requeue-${Date.now()}-${process.pid}.jsonl`;
  try {
    await rename(join(dir, deadLetterFile), join(dir, taken));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
    /^dead-letter\.requeue-.+\.jsonl$/.test(n),
  );
  let letters = 0;
  let turns = 0;
  for (const name of names.sort()) {
    const dead = await readDeadLetters(dir, opts.logger, name);
    const file = JournalFile.create(dir, opts);
    try {
      for (const d of dead) {
        for (const turn of d.turns) await file.append({ op: 'turn', turn });
        const turnIds = d.turns.map((t) => t.id);
        await file.append({ op: 'batch', batchId: d.batchId, agentId: d.agentId, turnIds, at: 0 });
        letters += 1;
        turns += d.turns.length;
      }
    } finally {
      await file.close();
    }
    await unlink(join(dir, name));
    await syncDir(dir);
  }
  return { letters, turns };
}

/** Appends one entry to `dead-letter.jsonl` (one write call, so concurrent processes don't interleave lines). */
export async function appendDeadLetter(dir: string, entry: DeadLetter): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, deadLetterFile);
  const fh = await open(path, 'a');
  try {
    await fh.write(`${JSON.stringify(entry)}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return path;
}
