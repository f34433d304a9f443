/** The call leases a configuration asks for: Redis when `MEMORY_JOURNAL_URL` is set, else files. */
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { CallLeases } from './call-leases.ts';
import { FileCallLeases } from './file-call-leases.ts';
import { RedisCallLeases } from './redis-call-leases.ts';

export function openCallLeases(config: Config, logger: Logger): CallLeases {
  const leaseMs = config.livekit.callLeaseMs;
  const { journalUrl, journalDir } = config.letta;
  if (journalUrl !== undefined) return new RedisCallLeases({ url: journalUrl, leaseMs, logger });
  return new FileCallLeases({ dir: join(journalDir, 'calls'), leaseMs, logger });
}
