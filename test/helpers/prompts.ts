/** What the voice agent sent to the OpenAI stand-in. */
import type { OpenAIStandIn } from '../../sim/index.ts';
import { defaultInstructions } from '../../src/voice/prompt.ts';

/**
 * The memory part (system messages after the instructions) of each of the voice agent's requests,
 * in order; requests from Letta's own agent step, which share the stand-in, are left out.
 */
export function memorySections(openai: OpenAIStandIn): string[] {
  return openai.requests
    .filter((r) => r.path === '/v1/chat/completions')
    .map((r) => (r.body as { messages?: { role: string; content: string }[] } | undefined)?.messages ?? [])
    .filter((ms) => ms[0]?.content === defaultInstructions)
    .map((ms) =>
      ms
        .slice(1)
        .filter((m) => m.role === 'system')
        .map((m) => m.content)
        .join('\n'),
    );
}
