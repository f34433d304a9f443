/**
 * Letta's message search (`POST /v1/messages/search`, a Letta Cloud feature): full-text search of
 * the messages of the organisation, optionally of one agent. No embeddings here: user and assistant
 * messages rank by the words they share with the query, newest first on ties. Letta's own server
 * (`server: 'self-hosted'`) has no message search without Turbopuffer and answers 400.
 */
import type { MessageSearchResponse } from '@letta-ai/letta-client/resources/messages';
import { detailError } from './http.ts';
import type { Ctx, Route } from './routes.ts';
import { words } from './passages.ts';
import { Checks, bodyObject, stringField } from './validate.ts';

async function searchMessages(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const b = bodyObject(c, ctx.body);
  const query = stringField(c, b, ['body'], 'query', true) ?? '';
  const agentId = stringField(c, b, ['body'], 'agent_id', false);
  const limit = typeof b.limit === 'number' && b.limit > 0 ? b.limit : 50;
  c.done();
  if (ctx.deps.server === 'self-hosted')
    throw detailError(400, 'Message search requires message embedding, OpenAI, and Turbopuffer to be enabled.');
  const q = words(query);
  const records = ctx.deps.store.records().filter((r) => !agentId || r.base.id === agentId);
  const found: { score: number; at: string; result: MessageSearchResponse[number] }[] = [];
  for (const rec of records) {
    for (const m of rec.messages) {
      if (m.message_type !== 'user_message' && m.message_type !== 'assistant_message') continue;
      const text =
        typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p ? p.text : '')).join('');
      const score = [...words(text)].filter((w) => q.has(w)).length;
      if (score === 0) continue;
      found.push({
        score,
        at: m.date,
        result: {
          message_type: m.message_type,
          message_id: m.id,
          agent_id: rec.base.id,
          conversation_id: null,
          created_at: m.date,
          content: m.content,
        } as MessageSearchResponse[number],
      });
    }
  }
  return found
    .sort((x, y) => y.score - x.score || (x.at < y.at ? 1 : -1))
    .slice(0, limit)
    .map((f) => f.result);
}

export const searchRoutes: Route[] = [
  // In Letta's published API; outside the voice subset the conformance test checks against.
  { method: 'POST', path: '/v1/messages/search', cost: 'read', outsideSubset: true, handle: searchMessages },
];
