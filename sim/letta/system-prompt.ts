/** The system prompt a Letta agent compiles: its instructions, then its memory blocks as Letta renders them. */
import type { BlockResponse } from '@letta-ai/letta-client/resources/blocks/blocks';

function renderBlock(b: BlockResponse): string {
  const label = b.label ?? 'block';
  return [
    `<${label}>`,
    '<description>',
    b.description ?? '',
    '</description>',
    '<metadata>',
    `- chars_current=${b.value.length}`,
    `- chars_limit=${b.limit ?? 100000}`,
    '</metadata>',
    '<value>',
    b.value,
    '</value>',
    `</${label}>`,
  ].join('\n');
}

/** The agent's system prompt with its memory blocks (the content of its system message). */
export function compileSystem(system: string, blocks: BlockResponse[]): string {
  const memory = blocks.length
    ? `\n\n<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n${blocks.map(renderBlock).join('\n\n')}\n</memory_blocks>`
    : '';
  return system + memory;
}
