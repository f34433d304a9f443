/**
 * Metrics of memory consistency and per-turn latency, for Prometheus (prom-client) and, when an
 * endpoint is set, OTLP (OpenTelemetry). Observers only: they listen to the turn writer's events
 * and the session's finished turns, and read the journal's status when asked; they never reach
 * into what they measure.
 *
 * Each instrument exists once per exporter: a prom-client metric in this process's registry and,
 * with OTLP on, an OpenTelemetry instrument on the same observations. Job processes are forked per
 * call, so the Prometheus registry of each is written to a snapshot file the worker's main process
 * merges (see metrics-snapshots.ts); OTLP is pushed by every process itself.
 */
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { voice } from '@livekit/agents';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JournalStatus } from '../memory/journal/journal.ts';
import type { MemoryWriteEvents } from './memory-metrics.ts';
import { observeTurns } from './turn-latency.ts';
import { defaultServiceName } from './tracing.ts';

/** Seconds: memory lag runs from a fraction of a second (healthy) to minutes (Letta down). */
const LAG_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
/** Seconds: a spoken turn's stages, from tens of milliseconds to several seconds. */
const TURN_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/** OTLP push interval; a job's last figures are flushed at its shutdown. */
const EXPORT_INTERVAL_MS = 15_000;

export const metricNames = {
  lag: 'voice_agent_memory_lag_seconds',
  retries: 'voice_agent_memory_retries_total',
  deadLetters: 'voice_agent_memory_dead_letters_total',
  backlog: 'voice_agent_memory_backlog_turns',
  oldestPending: 'voice_agent_memory_oldest_pending_seconds',
  deadLettersKept: 'voice_agent_memory_dead_letters',
  turn: 'voice_agent_turn_seconds',
} as const;

type Stage = 'end_of_turn' | 'llm_ttft' | 'tts_ttfb' | 'e2e';

export interface MetricsOptions {
  /** OTLP/HTTP protobuf metrics endpoint, used as is (e.g. http://collector:4318/v1/metrics). */
  otlpEndpoint?: string;
  /** Where the journal-wide gauges come from; only the process that serves /metrics needs it. */
  journalStatus?: () => Promise<JournalStatus>;
}

export class VoiceAgentMetrics {
  readonly registry = new Registry();
  readonly #provider: MeterProvider | undefined;
  readonly #lag: (seconds: number) => void;
  readonly #retry: (kind: string) => void;
  readonly #dead: () => void;
  readonly #stage: (stage: Stage, seconds: number) => void;

  constructor(o: MetricsOptions = {}) {
    if (o.otlpEndpoint !== undefined) {
      this.#provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': defaultServiceName }),
        readers: [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: o.otlpEndpoint }),
            exportIntervalMillis: EXPORT_INTERVAL_MS,
          }),
        ],
      });
    }
    const meter = this.#provider?.getMeter('voice-agent');
    const registers = [this.registry];

    const lag = new Histogram({
      name: metricNames.lag,
      help: 'Memory lag: a turn finished → Letta acknowledged it',
      buckets: LAG_BUCKETS,
      registers,
    });
    const otelLag = meter?.createHistogram(metricNames.lag, {
      unit: 's',
      advice: { explicitBucketBoundaries: LAG_BUCKETS },
    });
    this.#lag = (s) => {
      lag.observe(s);
      otelLag?.record(s);
    };

    const retries = new Counter({
      name: metricNames.retries,
      help: 'Letta requests of the memory writer that failed and will be retried, by kind of failure',
      labelNames: ['kind'],
      registers,
    });
    const otelRetries = meter?.createCounter(metricNames.retries);
    this.#retry = (kind) => {
      retries.inc({ kind });
      otelRetries?.add(1, { kind });
    };

    const dead = new Counter({
      name: metricNames.deadLetters,
      help: 'Batches Letta refused for good, moved to the dead letters',
      registers,
    });
    const otelDead = meter?.createCounter(metricNames.deadLetters);
    this.#dead = () => {
      dead.inc();
      otelDead?.add(1);
    };

    const turn = new Histogram({
      name: metricNames.turn,
      help: 'Spoken turn stages, as the worker measured them: end of turn, llm first token, TTS first byte, end to end',
      labelNames: ['stage'],
      buckets: TURN_BUCKETS,
      registers,
    });
    const otelTurn = meter?.createHistogram(metricNames.turn, {
      unit: 's',
      advice: { explicitBucketBoundaries: TURN_BUCKETS },
    });
    this.#stage = (stage, s) => {
      turn.observe({ stage }, s);
      otelTurn?.record(s, { stage });
    };

    if (o.journalStatus) this.#journalGauges(o.journalStatus, registers, meter);
  }

  /** Counts the writer's acknowledgements, retries and dead letters; returns a function that stops. */
  observeWriter(source: MemoryWriteEvents): () => void {
    const onAck = (e: { lagMs: number[] }) => {
      for (const ms of e.lagMs) this.#lag(ms / 1000);
    };
    const onRetry = (e: { kind: string }) => this.#retry(e.kind);
    const onDead = () => this.#dead();
    source.on('ack', onAck);
    source.on('retry', onRetry);
    source.on('dead', onDead);
    return () => {
      source.off('ack', onAck);
      source.off('retry', onRetry);
      source.off('dead', onDead);
    };
  }

  /** Records each finished turn's stages (the same figures as its turn_latency log line). */
  observeSession(session: voice.AgentSession): () => void {
    return observeTurns(session, (t) => {
      const stages: [Stage, number | undefined][] = [
        ['end_of_turn', t.endOfTurnDelayMs],
        ['llm_ttft', t.llmTtftMs],
        ['tts_ttfb', t.ttsTtfbMs],
        ['e2e', t.e2eMs],
      ];
      for (const [stage, ms] of stages) if (ms !== undefined) this.#stage(stage, ms / 1000);
    });
  }

  /** Sends what OTLP has not sent yet (a job process ends with process.exit()). */
  async flush(): Promise<void> {
    await this.#provider?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.#provider?.shutdown();
  }

  /** Backlog, oldest pending turn and dead letters, read from the journal when scraped or exported. */
  #journalGauges(status: () => Promise<JournalStatus>, registers: Registry[], meter: Meter | undefined): void {
    // The three gauges of one scrape (or export) are collected together: they share one read.
    let reading: Promise<JournalStatus | undefined> | undefined;
    const read = (): Promise<JournalStatus | undefined> => {
      reading ??= status()
        .catch(() => undefined)
        .finally(() => {
          reading = undefined;
        });
      return reading;
    };
    const gauges: [string, string, (s: JournalStatus) => number][] = [
      [metricNames.backlog, 'Turns in the journal not yet acknowledged by Letta', (s) => s.pendingTurns],
      [
        metricNames.oldestPending,
        'Age of the oldest turn not yet acknowledged by Letta (0 when none)',
        (s) => (s.oldestPendingAt === null ? 0 : Math.max(0, (Date.now() - s.oldestPendingAt) / 1000)),
      ],
      [metricNames.deadLettersKept, 'Dead letters kept in the journal, not yet replayed', (s) => s.deadLetters],
    ];
    for (const [name, help, value] of gauges) {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const s = await read();
          if (s) this.set(value(s));
        },
      });
      meter?.createObservableGauge(name).addCallback(async (r: ObservableResult<Attributes>) => {
        const s = await read();
        if (s) r.observe(value(s));
      });
    }
  }
}
