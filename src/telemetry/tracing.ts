/**
 * Optional OpenTelemetry trace export (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). LiveKit Agents
 * already creates the spans (job, session, user and agent turns, LLM and TTS requests); this only
 * gives them a provider that ships them to an OTLP/HTTP collector.
 *
 * Spans are made in the job processes, so this runs there: `enableTracing` in `prewarm` (before
 * the job's first span) and `flushTracing` as a job shutdown callback, because a job process
 * ends with `process.exit()` and a batch still in memory would be lost.
 */
import { telemetry } from '@livekit/agents';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** `service.name` unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` say otherwise. */
export const defaultServiceName = 'livekit-letta-voice-agent';

/** One export attempt; the flush at job shutdown must not eat the 60 s a job has to stop. */
const exportTimeoutMs = 5000;

let provider: NodeTracerProvider | undefined;

/**
 * Installs a tracer provider exporting to `endpoint` (a full URL, used as is). Once per process;
 * later calls are no-ops. LiveKit Cloud's own trace export, when the job has it, attaches to the
 * same provider through the fan-out processor instead of replacing it.
 */
export function enableTracing(endpoint: string): void {
  if (provider !== undefined) return;
  const fanout = new telemetry.FanoutSpanProcessor();
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': defaultServiceName }).merge(
      detectResources({ detectors: [envDetector] }),
    ),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint, timeoutMillis: exportTimeoutMs })),
      fanout,
    ],
  });
  // Global registration installs the async context manager that nests spans across awaits.
  provider.register();
  telemetry.setTracerProvider(provider, { registerSpanProcessor: (p) => fanout.add(p) });
}

/** Exports every finished span still buffered. Resolves at once when tracing is off. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}
