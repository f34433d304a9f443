import { telemetry } from '@livekit/agents';
import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { listen } from '../../sim/index.ts';
import { defaultServiceName, enableTracing, flushTracing } from '../../src/telemetry/tracing.ts';

interface Export {
  path: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

/** An OTLP/HTTP collector that keeps what it is sent. */
async function startCollector() {
  const exports: Export[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exports.push({ path: req.url, contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  const { port, close } = await listen(server);
  return { url: `http://127.0.0.1:${port}/v1/traces`, exports, close };
}

describe('trace export', () => {
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  afterAll(async () => {
    delete process.env.LIVEKIT_TELEMETRY_ALLOW_PII;
    await collector?.close();
  });

  it('is off until enabled: flushing does nothing', async () => {
    await expect(flushTracing()).resolves.toBeUndefined();
  });

  it("sends LiveKit Agents' spans, nested and without transcripts, to the configured endpoint when flushed", async () => {
    collector = await startCollector();
    // What docs/operations.md promises: with this set, transcripts (`lk.pii.*` attributes) never leave the process.
    process.env.LIVEKIT_TELEMETRY_ALLOW_PII = 'false';
    enableTracing(collector.url);
    enableTracing('http://127.0.0.1:9/ignored');
    const ids = await telemetry.tracer.startActiveSpan(
      async (parent) => {
        await Promise.resolve();
        const child = telemetry.tracer.startSpan({
          name: 'deploy-test-child',
          attributes: { 'lk.pii.transcript': 'my card number is 4242', 'deploy.test.kept': 'visible-value' },
        });
        child.end();
        // The SDK span records its parent; the API type does not show it.
        const parentOfChild = (child as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext;
        return { parent: parent.spanContext().spanId, parentOfChild: parentOfChild?.spanId };
      },
      { name: 'deploy-test-parent' },
    );
    // Nesting across an await needs the context manager that registering the provider installs.
    expect(ids.parentOfChild).toBe(ids.parent);
    expect(collector.exports).toEqual([]);
    await flushTracing();
    expect(collector.exports).toHaveLength(1);
    const [sent] = collector.exports;
    expect(sent!.path).toBe('/v1/traces');
    expect(sent!.contentType).toBe('application/x-protobuf');
    const body = sent!.body.toString('latin1');
    for (const text of ['deploy-test-parent', 'deploy-test-child', defaultServiceName, 'visible-value']) {
      expect(body).toContain(text);
    }
    expect(body).not.toContain('4242');
  });
});
