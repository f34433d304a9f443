/** The journal a configuration asks for: Redis when `MEMORY_JOURNAL_URL` is set, else files on disk. */
import type { Logger } from '../../telemetry/logger.ts';
import { FileJournal } from './file-journal.ts';
import type { TurnJournal } from './journal.ts';
import { RedisJournal } from './redis-journal.ts';

export interface JournalConfig {
  journalDir: string;
  journalUrl?: string;
  claimIdleMs: number;
}

export function openJournal(c: JournalConfig, logger: Logger): TurnJournal {
  if (c.journalUrl !== undefined) return new RedisJournal({ url: c.journalUrl, logger, claimIdleMs: c.claimIdleMs });
  return new FileJournal(c.journalDir, { logger });
}
