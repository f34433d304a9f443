/**
 * What Letta's own server needs from the OpenAI stand-in (held to the real server by the
 * real-Letta tier): embeddings in both encodings, driven by the official `openai` SDK, and the
 * memory-tool step of a Letta agent.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultResponder, startOpenAIStandIn, type OpenAIStandIn } from '../../sim/index.ts';

let standIn: OpenAIStandIn;
let client: OpenAI;
beforeAll(async () => {
  standIn = await startOpenAIStandIn();
  client = new OpenAI({ baseURL: standIn.url, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => standIn.close());

const cosine = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('embeddings', () => {
  it('gives one unit vector per input, in order, the same for the same text, closer for shared words', async () => {
    const texts = ['The caller keeps bees', 'the caller keeps BEES', 'Trains leave Paris at noon'];
    const r = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: texts,
      encoding_format: 'float',
    });
    expect(r.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = r.data.map((d) => d.embedding);
    expect(a).toHaveLength(1536);
    expect(cosine(a!, a!)).toBeCloseTo(1, 5);
    expect(cosine(a!, b!)).toBeCloseTo(1, 5);
    expect(cosine(a!, c!)).toBeLessThan(0.5);
    expect(r.usage.total_tokens).toBeGreaterThan(0);
  });

  it('encodes base64 as little-endian float32, as Letta asks for it, and honours dimensions', async () => {
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello bees',
      dimensions: 256,
    });
    const raw = await client.post<{ data: { embedding: string }[] }>('/embeddings', {
      body: { model: 'text-embedding-3-small', input: ['hello bees'], encoding_format: 'base64', dimensions: 256 },
    });
    const bytes = Buffer.from(raw.data[0]!.embedding, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toHaveLength(256);
    decoded.forEach((x, i) => expect(x).toBeCloseTo(floats.data[0]!.embedding[i]!, 6));
  });

  it('refuses an unknown model and an empty input as OpenAI does', async () => {
    await expect(client.embeddings.create({ model: 'gpt-4.1-mini', input: 'x' })).rejects.toMatchObject({
      status: 404,
    });
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: [] })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('lists the embedding models beside the chat models, by their real ids', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4.1-mini', 'text-embedding-3-small', 'text-embedding-ada-002']));
  });
});

describe('a step of a Letta agent', () => {
  const memoryTools = [
    { type: 'function', function: { name: 'memory_insert', parameters: {} } },
    { type: 'function', function: { name: 'memory_replace', parameters: {} } },
  ];
  const transcript =
    '[Voice call transcript]\n\n[2026-12-03T10:00:00Z] Caller: Hi, my name is Alice and I keep bees.\n[2026-12-03T10:00:02Z] Assistant: You said: my name is Alice.';
  const respond = defaultResponder();

  it('writes the facts the caller stated into the human block with the memory tool', () => {
    const reply = respond(
      {
        model: 'gpt-4.1-mini',
        tools: memoryTools,
        messages: [
          { role: 'system', content: '<human>Nothing yet</human>' },
          { role: 'user', content: transcript },
        ],
      },
      0,
    );
    expect(reply.toolCalls).toEqual([
      {
        name: 'memory_insert',
        arguments: JSON.stringify({
          label: 'human',
          new_string: "The caller's name is Alice.\nThe caller keeps bees.",
          insert_line: -1,
        }),
      },
    ]);
  });

  it('answers in text (ending the loop) after the tool ran, or when the block already holds the facts', () => {
    const afterTool = respond(
      {
        model: 'gpt-4.1-mini',
        tools: memoryTools,
        messages: [
          { role: 'user', content: transcript },
          { role: 'tool', content: 'ok', tool_call_id: 'call_1' },
        ],
      },
      0,
    );
    expect(afterTool.toolCalls).toBeUndefined();
    expect(afterTool.content).toMatch(/^You said: /);
    const known = respond(
      {
        model: 'gpt-4.1-mini',
        tools: memoryTools,
        messages: [
          { role: 'system', content: "<human>The caller's name is Alice.\nThe caller keeps bees.</human>" },
          { role: 'user', content: transcript },
        ],
      },
      0,
    );
    expect(known.toolCalls).toBeUndefined();
  });

  it('leaves requests without Letta’s memory tools to the ordinary reply', () => {
    const reply = respond({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'my name is Alice' }] }, 0);
    expect(reply).toEqual({
      content: 'You said: my name is Alice. That is an interesting point. Tell me more about it.',
    });
  });
});
