/**
 * Prometheus and OTLP metrics, scraped and received over real HTTP on 127.0.0.1: memory lag,
 * retries by kind, dead letters and the journal's backlog move as a real writer meets a failing
 * Letta stand-in; job processes' snapshots are merged (and kept after they end); OTLP arrives.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type LettaStandIn, startLettaStandIn } from '../../sim/index.ts';
import { FileJournal } from '../../src/memory/journal/file-journal.ts';
import { VoiceAgentMetrics, metricNames } from '../../src/telemetry/metrics.ts';
import { startMetricsServer } from '../../src/telemetry/metrics-server.ts';
import { SnapshotWriter, mergedMetrics } from '../../src/telemetry/metrics-snapshots.ts';
import { makeTurn, recordingLogger, startWriter, until } from '../memory/helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'metrics-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** One sample's value from Prometheus text, e.g. value(text, 'x_total{kind="busy"}'). */
function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('metrics', () => {
  let letta: LettaStandIn;

  it('serves lag, retries by kind, dead letters and the journal backlog on /metrics as they move', async () => {
    letta = await startLettaStandIn();
    cleanups.push(() => letta.close());
    const agentId = letta.store.createAgent({ name: 'caller' }).id;
    const dir = await scratch();
    const { logger } = recordingLogger();
    const journal = new FileJournal(dir, { logger });
    const writer = startWriter(letta, dir, 'messages', logger, { journal });
    cleanups.push(() => writer.close());
    const metrics = new VoiceAgentMetrics({ journalStatus: () => journal.status() });
    metrics.observeWriter(writer);
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      metrics: () => metrics.registry.metrics(),
      logger,
    });
    cleanups.push(() => server.close());
    const scrape = async () => {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };

    await letta.faults.set({ kind: 'down' });
    await writer.submit(makeTurn(agentId, 1));
    await writer.submit(makeTurn(agentId, 2));
    await until(() => writer.stats().retries > 0, 10_000, 'a retry');
    const down = await scrape();
    expect(value(down, metricNames.backlog)).toBe(2);
    expect(value(down, metricNames.oldestPending)).toBeGreaterThan(0);
    expect(value(down, `${metricNames.retries}{kind="refused"}`)).toBeGreaterThan(0);
    expect(value(down, `${metricNames.lag}_count`)).toBe(0);

    await letta.faults.clear();
    expect((await writer.flush(10_000)).drained).toBe(true);
    await letta.faults.set({ kind: 'status', status: 422, count: 1, match: { method: 'POST' } });
    await writer.submit(makeTurn(agentId, 3));
    expect((await writer.flush(10_000)).drained).toBe(true);
    const after = await scrape();
    expect(value(after, metricNames.backlog)).toBe(0);
    expect(value(after, metricNames.oldestPending)).toBe(0);
    expect(value(after, `${metricNames.lag}_count`)).toBe(2);
    expect(value(after, metricNames.deadLetters)).toBe(1);
    expect(value(after, metricNames.deadLettersKept)).toBe(1);

    expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('merges the snapshots of job processes, and keeps the counts of those that ended', async () => {
    const dir = await scratch();
    const counter = (r: Registry, n: number) => {
      new Counter({ name: 'x_total', help: 'x', registers: [r] }).inc(n);
    };
    const own = new Registry();
    counter(own, 1);
    const job = new Registry();
    counter(job, 10);
    const writer = new SnapshotWriter(dir, job);
    cleanups.push(async () => writer.stop());
    await writer.write();
    // A job process that has ended (no process has this pid) left its last snapshot.
    const ended = new Registry();
    counter(ended, 100);
    await writeFile(join(dir, '999999999.json'), JSON.stringify(await ended.getMetricsAsJSON()));

    expect(value(await mergedMetrics(dir, own), 'x_total')).toBe(111);
    expect((await readdir(dir)).sort()).toEqual([`${process.pid}.json`, 'retired.json']);
    // Folded once: scraping again counts it once.
    expect(value(await mergedMetrics(dir, own), 'x_total')).toBe(111);
  });

  it('pushes OTLP metrics to the configured endpoint', async () => {
    const bodies: { type: string | undefined; body: Buffer }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({ type: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => collector.close(() => r())));
    const { port } = collector.address() as AddressInfo;
    letta = await startLettaStandIn();
    cleanups.push(() => letta.close());
    const agentId = letta.store.createAgent({ name: 'caller' }).id;
    const dir = await scratch();
    const { logger } = recordingLogger();
    const writer = startWriter(letta, dir, 'messages', logger);
    cleanups.push(() => writer.close());
    const metrics = new VoiceAgentMetrics({ otlpEndpoint: `http://127.0.0.1:${port}/v1/metrics` });
    cleanups.push(() => metrics.shutdown());
    metrics.observeWriter(writer);
    await writer.submit(makeTurn(agentId, 1));
    expect((await writer.flush(10_000)).drained).toBe(true);
    await metrics.flush();
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies[0]?.type).toBe('application/x-protobuf');
    expect(Buffer.concat(bodies.map((b) => b.body)).includes(metricNames.lag)).toBe(true);
  });
});
