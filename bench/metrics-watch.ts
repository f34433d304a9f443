/**
 * The product's Prometheus endpoint, served for the bench's memory host on a free loopback port and
 * read over HTTP the way Prometheus would, a few times a second: what an operator's dashboard
 * would have shown while Letta was slowed, down and back.
 */
import type { TurnWriter } from '../src/memory/writer/turn-writer.ts';
import type { Logger } from '../src/telemetry/logger.ts';
import { VoiceAgentMetrics, metricNames } from '../src/telemetry/metrics.ts';
import { startMetricsServer } from '../src/telemetry/metrics-server.ts';

export interface MetricsReading {
  /** Turns in the journal not yet in Letta. */
  backlog: number;
  /** Age of the oldest of them, seconds. */
  oldestPendingS: number;
  /** Dead letters kept. */
  deadLetters: number;
  /** Turns acknowledged (the lag histogram's count). */
  acked: number;
  /** Retried requests, every kind. */
  retries: number;
}

const zero: MetricsReading = { backlog: 0, oldestPendingS: 0, deadLetters: 0, acked: 0, retries: 0 };

function parse(text: string): MetricsReading {
  const sum = (prefix: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(prefix))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return {
    backlog: sum(`${metricNames.backlog} `),
    oldestPendingS: sum(`${metricNames.oldestPending} `),
    deadLetters: sum(`${metricNames.deadLettersKept} `),
    acked: sum(`${metricNames.lag}_count `),
    retries: sum(`${metricNames.retries}{`),
  };
}

export interface MetricsWatch {
  url: string;
  read(): Promise<MetricsReading>;
  /** The highest value of each figure since the last `resetPeak`. */
  peak(): MetricsReading;
  resetPeak(): void;
  stop(): Promise<void>;
}

export async function watchMetrics(writer: TurnWriter, logger: Logger, everyMs = 250): Promise<MetricsWatch> {
  const metrics = new VoiceAgentMetrics({ journalStatus: () => writer.journal.status() });
  const unobserve = metrics.observeWriter(writer);
  const server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    metrics: () => metrics.registry.metrics(),
    logger,
  });
  let peak = { ...zero };
  const read = async (): Promise<MetricsReading> => {
    const r = parse(await (await fetch(server.url)).text());
    for (const k of Object.keys(peak) as (keyof MetricsReading)[]) peak[k] = Math.max(peak[k], r[k]);
    return r;
  };
  let reading: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    reading = read().catch(() => undefined);
  }, everyMs);
  return {
    url: server.url,
    read,
    peak: () => ({ ...peak }),
    resetPeak: () => {
      peak = { ...zero };
    },
    stop: async () => {
      clearInterval(timer);
      await reading;
      unobserve();
      await server.close();
    },
  };
}
