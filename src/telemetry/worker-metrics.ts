/**
 * Metrics wired for the worker's two kinds of process: the main process serves /metrics (its own
 * registry, the journal-wide gauges, and every job process's snapshot merged in), and each job
 * process counts what its call and memory writer do and leaves a snapshot for the main process.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openJournal } from '../memory/journal/open-journal.ts';
import type { Logger } from './logger.ts';
import { VoiceAgentMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { SNAPSHOT_DIR_ENV, SnapshotWriter, mergedMetrics } from './metrics-snapshots.ts';

/** Main process: call before the worker forks job processes (they find the folder in their environment). */
export async function startMainMetrics(config: Config, logger: Logger): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'voice-agent-metrics-'));
  process.env[SNAPSHOT_DIR_ENV] = dir;
  const journal = config.letta.baseURL !== undefined ? openJournal(config.letta, logger) : undefined;
  const metrics = new VoiceAgentMetrics({
    ...(config.metrics.otlpEndpoint !== undefined ? { otlpEndpoint: config.metrics.otlpEndpoint } : {}),
    ...(journal ? { journalStatus: () => journal.status() } : {}),
  });
  if (config.metrics.port === 'off') return;
  try {
    const server = await startMetricsServer({
      host: config.metrics.host,
      port: config.metrics.port,
      metrics: () => mergedMetrics(dir, metrics.registry),
      logger,
    });
    logger.info({ event: 'metrics_serving', url: server.url }, `Prometheus metrics at ${server.url}`);
  } catch (err) {
    // Metrics are not worth a worker that does not start: a port in use is said, and skipped.
    logger.error(
      {
        event: 'metrics_not_serving',
        host: config.metrics.host,
        port: config.metrics.port,
        err: (err as Error).message,
      },
      'could not serve Prometheus metrics (set METRICS_PORT to a free port, 0 for any, or off)',
    );
  }
}

export interface JobMetrics {
  metrics: VoiceAgentMetrics;
  /** Writes the last snapshot and pushes what OTLP has not sent: a job process ends with process.exit(). */
  flush(): Promise<void>;
}

/** A job process's metrics; its snapshots go where the main process said (none outside a worker). */
export function startJobMetrics(config: Config): JobMetrics {
  const metrics = new VoiceAgentMetrics(
    config.metrics.otlpEndpoint !== undefined ? { otlpEndpoint: config.metrics.otlpEndpoint } : {},
  );
  const dir = process.env[SNAPSHOT_DIR_ENV];
  const snapshots = dir ? new SnapshotWriter(dir, metrics.registry) : undefined;
  return {
    metrics,
    async flush() {
      await Promise.allSettled([snapshots?.write(), metrics.flush()]);
    },
  };
}
