/**
 * Turns one LLM stream into what the framework reads from an llm node: each chunk is passed on the
 * moment it arrives (no sentence batching here; the TTS tokenizer does that downstream), a
 * cancelled node aborts the upstream HTTP request, and a failed reply ends with a short spoken
 * apology instead of silence.
 *
 * The plugin's LLMStream swallows its errors (it ends the iteration and emits `error` on its LLM),
 * so a failure is detected through that event while this stream is open.
 */
import type { llm } from '@livekit/agents';
import { ReadableStream } from 'node:stream/web';
import type { Logger } from '../telemetry/logger.ts';

export const apologies = {
  beforeFirstToken: "Sorry, I'm having trouble answering right now. Could you say that again?",
  afterFirstToken: ' Sorry, I lost my train of thought there. Could you repeat that?',
} as const;

export function forwardReply(
  model: llm.LLM,
  stream: llm.LLMStream,
  logger: Logger,
): ReadableStream<llm.ChatChunk | string> {
  let failure: Error | undefined;
  const onError: llm.LLMCallbacks['error'] = (ev) => {
    if (!ev.recoverable) failure = ev.error;
  };
  let cancelled = false;
  return new ReadableStream<llm.ChatChunk | string>({
    async start(controller) {
      model.on('error', onError);
      let produced = false;
      try {
        for await (const chunk of stream) {
          if (cancelled) break;
          if (chunk.delta?.content || chunk.delta?.toolCalls?.length) produced = true;
          controller.enqueue(chunk);
        }
        if (failure && !cancelled) {
          logger.warn({ err: failure.message, afterFirstToken: produced }, 'reply failed; speaking an apology');
          controller.enqueue(produced ? apologies.afterFirstToken : apologies.beforeFirstToken);
        }
        if (!cancelled) controller.close();
      } catch (err) {
        if (!cancelled) controller.error(err);
      } finally {
        model.off('error', onError);
      }
    },
    cancel() {
      cancelled = true;
      // Aborts the SDK request, which closes the upstream connection.
      stream.close();
    },
  });
}
