/**
 * What a caller's Letta agent looks like when it is created on their first call. Everything a
 * team would tune lives here: the blocks the voice agent reads back, their sizes, and the model.
 */
import type { AgentCreateParams } from '@letta-ai/letta-client/resources/agents/agents';

/** Block labels rendered into the voice agent's prompt, in this order of importance. */
export const memoryLabels = ['human', 'persona'] as const;

/** Tag that finds a caller's agent; derived from the LiveKit participant identity. */
export function callerTag(identity: string): string {
  return `lk-caller:${identity}`;
}

export const voiceAgentTag = 'voice-memory';

/** The embedding handle both Letta Cloud and a self-hosted server accept. */
export const defaultEmbeddingHandle = 'openai/text-embedding-3-small';

export function callerAgentTemplate(
  identity: string,
  model: string,
  embedding: string = defaultEmbeddingHandle,
): AgentCreateParams {
  return {
    // Letta allows letters, digits, spaces, "_", "'" and "-" in names.
    name: `voice caller ${identity.replace(/[^\w '-]/g, '_').slice(0, 60)}`,
    model,
    embedding,
    tags: [callerTag(identity), voiceAgentTag],
    memory_blocks: [
      {
        label: 'human',
        value: 'Nothing is known about this caller yet.',
        limit: 4000,
        description:
          'Facts about the caller that help the next call: name, preferences, ongoing topics, promises made. Keep it short and current.',
      },
      {
        label: 'persona',
        value:
          'I am the long-term memory of a voice assistant. I receive transcripts of past calls and keep the human block up to date. My replies are never spoken to anyone.',
        limit: 2000,
        description: 'How this memory agent sees its role.',
      },
    ],
  };
}
