/**
 * Archival memory of the Letta stand-in: passages inserted with the agent's embedding (padded as the
 * server pads them), listed oldest first, and searched by the cosine of their embeddings, or by the
 * words they share with the query when there are none.
 */
import type { PassageSearchResponse } from '@letta-ai/letta-client/resources/agents/passages';
import type { Ctx, Deps, Route } from './routes.ts';
import { page, requireAgent } from './routes.ts';
import type { AgentRecord, Passage } from './store.ts';
import { isoNow } from './store.ts';
import { Checks, bodyObject, datetimeError, stringField, stringListField } from './validate.ts';

async function createPassage(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const b = bodyObject(c, ctx.body);
  const text = stringField(c, b, ['body'], 'text', true);
  const tags = stringListField(c, b, 'tags');
  const createdAt = stringField(c, b, ['body'], 'created_at', false);
  if (createdAt !== null && Number.isNaN(Date.parse(createdAt))) {
    c.errors.push(datetimeError(['body', 'created_at'], createdAt));
  }
  c.done();
  const rec = requireAgent(ctx, agentId);
  const at = createdAt === null ? null : new Date(createdAt).toISOString();
  const embedding = await embed(ctx.deps, rec, text ?? '');
  // The server stores vectors padded with zeros to its largest dimension, 4096.
  const padded = embedding && [...embedding, ...new Array<number>(Math.max(0, 4096 - embedding.length)).fill(0)];
  return [ctx.deps.store.addPassage(rec, text ?? '', tags, at, padded)];
}

/** The agent's embedding of a text from the model server, as the server computes it; null without one. */
async function embed(deps: Deps, rec: AgentRecord, text: string): Promise<number[] | null> {
  const model = rec.base.embedding_config?.embedding_model;
  if (!deps.llm || !model) return null;
  try {
    const r = await deps.llm.embeddings.create(
      { model, input: text, encoding_format: 'float' },
      { signal: deps.signal },
    );
    return r.data[0]?.embedding ?? null;
  } catch {
    return null;
  }
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Passages oldest first by `created_at` (the turn's time when the writer gave one), then as stored. */
function byCreatedAt(ps: Passage[]): Passage[] {
  return ps
    .map((p, i) => ({ p, i, t: Date.parse(p.created_at ?? '') }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map(({ p }) => p);
}

async function listPassages(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const after = c.str('after');
  const before = c.str('before');
  const limit = c.int('limit', 100);
  const search = c.str('search');
  const ascending = c.bool('ascending', true);
  c.done();
  // The server answers an unknown agent's archive with an empty list.
  const rec = ctx.deps.store.record(agentId);
  if (!rec) return [];
  let ps = byCreatedAt(rec.passages);
  if (!ascending) ps.reverse();
  if (search !== null) ps = ps.filter((p) => p.text.toLowerCase().includes(search.toLowerCase()));
  return page(ps, after, before, limit);
}

export function words(s: string): Set<string> {
  return new Set(
    s
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean),
  );
}

async function searchPassages(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const query = c.requiredStr('query');
  const tags = c.list('tags');
  const mode = c.literal('tag_match_mode', ['any', 'all'], 'any');
  const topK = c.int('top_k', null);
  const start = c.datetime('start_datetime');
  const end = c.datetime('end_datetime');
  c.done();
  const rec = requireAgent(ctx, agentId);
  // Ranked as the server ranks them, by the cosine of embeddings from the model server; without
  // embeddings, by the words shared with the query. Newest first on ties.
  const q = words(query);
  const qv = rec.passages.every((p) => p.embedding) ? await embed(ctx.deps, rec, query) : null;
  const score = (p: Passage): number =>
    qv && p.embedding ? cosine(qv, p.embedding) : [...words(p.text)].filter((w) => q.has(w)).length;
  const scored = rec.passages
    .map((p, i) => ({ p, i, score: score(p) }))
    .filter(({ p }) => {
      const t = Date.parse(p.created_at ?? isoNow());
      const pt = p.tags ?? [];
      if (start !== null && t < start) return false;
      if (end !== null && t > end) return false;
      if (tags && tags.length > 0)
        return mode === 'all' ? tags.every((x) => pt.includes(x)) : tags.some((x) => pt.includes(x));
      return true;
    })
    .sort((a, b) => b.score - a.score || b.i - a.i)
    .slice(0, topK ?? 5);
  const results = scored.map(({ p }) => ({
    id: p.id ?? '',
    timestamp: p.created_at ?? 'Unknown',
    content: p.text,
    tags: p.tags ?? [],
  }));
  const res: PassageSearchResponse = { results, count: results.length };
  return res;
}

export const passageRoutes: Route[] = [
  { method: 'POST', path: '/v1/agents/{agent_id}/archival-memory', cost: 'read', handle: createPassage },
  { method: 'GET', path: '/v1/agents/{agent_id}/archival-memory', cost: 'read', handle: listPassages },
  { method: 'GET', path: '/v1/agents/{agent_id}/archival-memory/search', cost: 'read', handle: searchPassages },
];
