/**
 * Routing for the Letta stand-in, plus the cheap endpoints: health, agents and core-memory blocks.
 * Archival passages live in passages.ts, message-creating endpoints in messages.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HealthResponse } from '@letta-ai/letta-client/resources/top-level';
import { sleep } from '../server.ts';
import { HttpError, InvalidJson, detailError, invalidJsonError, valueError } from './http.ts';
import { checkHandles } from './models.ts';
import type { AgentRecord, BlockResponse, Relation } from './store.ts';
import { DEFAULT_ORG, DEFAULT_USER, RELATIONS } from './store.ts';
import type { Json } from './validate.ts';
import { Checks, bodyObject, pageQuery, stringField, stringListField } from './validate.ts';

import type { Ctx, Deps, Offered, Route } from './context.ts';

export type { Ctx, Deps, Offered, Route };

/** Returned by handlers that answered through `ctx.reply` themselves (SSE). */
export const REPLIED = Symbol('replied');

const AGENT_VERSION = '0.16.8';

export function agentNotFound(agentId: string): HttpError {
  return detailError(404, `Agent with ID ${agentId} not found`);
}

/** Python's repr() of an aware UTC datetime. */
function pyDatetime(d: Date): string {
  const us = d.getUTCMilliseconds() * 1000;
  const s = d.getUTCSeconds();
  const parts = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  if (s !== 0 || us !== 0) parts.push(s);
  if (us !== 0) parts.push(us);
  return `datetime.datetime(${parts.join(', ')}, tzinfo=datetime.timezone.utc)`;
}

/**
 * The 404 of the endpoints that look the agent up with an access check (the core-memory blocks):
 * the server prints the ids asked for and its default actor.
 */
function agentNoAccess(ctx: Ctx, agentId: string): HttpError {
  const actor = `id='${DEFAULT_USER}' organization_id='${DEFAULT_ORG}' name='default_user' created_at=None updated_at=${pyDatetime(ctx.deps.startedAt)} is_deleted=False`;
  return detailError(404, `Agent not found with id='['${agentId}']', access level in ['read'] for actor='${actor}'`);
}

function requireAgentAccess(ctx: Ctx, agentId: string): AgentRecord {
  const rec = ctx.deps.store.record(agentId);
  if (!rec) throw agentNoAccess(ctx, agentId);
  return rec;
}

export function requireAgent(ctx: Ctx, agentId: string): AgentRecord {
  const rec = ctx.deps.store.record(agentId);
  if (!rec) throw agentNotFound(agentId);
  return rec;
}

/**
 * The archived server's `is_1_0_sdk_version`: Stainless clients (X-Stainless-Package-Version) and
 * requests without a User-Agent are 1.x; otherwise the UA must read `[@letta-ai/]letta-client/1.x`.
 */
export function is1xSdk(headers: IncomingHttpHeaders): boolean {
  if (headers['x-stainless-package-version']) return true;
  const ua = headers['user-agent'];
  if (!ua) return true;
  const parts = ua.split('/');
  const okName =
    parts.length === 3
      ? parts[0] === '@letta-ai' && parts[1] === 'letta-client'
      : parts.length === 2 && parts[0] === 'letta-client';
  const version = parts[parts.length - 1] ?? '';
  return okName && version.includes('.') && version.split('.')[0] === '1';
}

const LEGACY_RELATIONS: Record<string, Relation> = {
  tags: 'agent.tags',
  tools: 'agent.tools',
  sources: 'agent.sources',
  memory: 'agent.blocks',
  identity_ids: 'agent.identities',
  multi_agent_group: 'agent.managed_group',
  tool_exec_environment_variables: 'agent.secrets',
};

/** Which relations an AgentState carries: all for legacy clients, only `include=` ones for 1.x. */
function relations(ctx: Ctx, c: Checks): ReadonlySet<Relation> {
  const include = c.literalList('include', RELATIONS) ?? [];
  const legacy = c.list('include_relationships');
  if (legacy) return new Set([...include, ...legacy.flatMap((l) => LEGACY_RELATIONS[l] ?? [])]);
  return is1xSdk(ctx.headers) ? new Set(include) : new Set(RELATIONS);
}

/** Cursor pagination over an already ordered list (`after`/`before` are item ids). */
/** One page of a list by cursor ids, as Letta's list endpoints page. */
export function page<T extends { id?: string }>(
  items: T[],
  after: string | null,
  before: string | null,
  limit: number | null,
): T[] {
  let out = items;
  if (after !== null) {
    const i = out.findIndex((x) => x.id === after);
    out = i < 0 ? [] : out.slice(i + 1);
  }
  if (before !== null) {
    const i = out.findIndex((x) => x.id === before);
    if (i >= 0) out = out.slice(0, i);
  }
  return limit !== null && limit > 0 ? out.slice(0, limit) : out;
}

async function listAgents(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const name = c.str('name');
  const tags = c.list('tags');
  const matchAll = c.bool('match_all_tags', false);
  const after = c.str('after');
  const before = c.str('before');
  const limit = c.int('limit', 50);
  const queryText = c.str('query_text');
  const order = c.literal('order', ['asc', 'desc'], 'desc');
  const include = relations(ctx, c);
  c.done();
  let recs = ctx.deps.store.records();
  if (order === 'asc') recs.reverse();
  if (name !== null) recs = recs.filter((r) => r.base.name === name);
  if (queryText !== null) recs = recs.filter((r) => r.base.name.toLowerCase().includes(queryText.toLowerCase()));
  if (tags && tags.length > 0) {
    recs = recs.filter((r) =>
      matchAll ? tags.every((t) => r.tags.includes(t)) : tags.some((t) => r.tags.includes(t)),
    );
  }
  const views = recs.map((r) => ctx.deps.store.view(r, include));
  return page(views, after, before, limit);
}

async function createAgent(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const b = bodyObject(c, ctx.body);
  stringField(c, b, ['body'], 'name', false);
  stringField(c, b, ['body'], 'system', false);
  stringListField(c, b, 'tags');
  const embedding = stringField(c, b, ['body'], 'embedding', false);
  if (embedding !== null && !/^[^/]+\/.+$/.test(embedding)) {
    c.errors.push(
      valueError(['body', 'embedding'], 'The embedding handle should be in the format provider/model-name', embedding),
    );
  }
  const blocks = b.memory_blocks;
  if (blocks !== undefined && blocks !== null && !Array.isArray(blocks)) {
    c.errors.push({
      type: 'list_type',
      loc: ['body', 'memory_blocks'],
      msg: 'Input should be a valid list',
      input: blocks,
    });
  }
  if (Array.isArray(blocks)) {
    blocks.forEach((x: unknown, i) => {
      const o = typeof x === 'object' && x !== null ? (x as Json) : {};
      stringField(c, o, ['body', 'memory_blocks', i], 'label', true);
      stringField(c, o, ['body', 'memory_blocks', i], 'value', true);
    });
  }
  c.done();
  const model = typeof b.model === 'string' ? b.model : null;
  if (model !== null && !/^[^/]+\/.+$/.test(model))
    throw detailError(400, 'INVALID_ARGUMENT: The model handle should be in the format provider/model-name');
  await checkHandles(ctx.deps, model, embedding);
  return ctx.deps.store.createAgent(b);
}

async function retrieveAgent(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const include = relations(ctx, c);
  c.done();
  return ctx.deps.store.view(requireAgent(ctx, agentId), include);
}

async function listBlocks(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const { after, before, limit, order } = pageQuery(c);
  c.done();
  const rec = requireAgentAccess(ctx, agentId);
  // The server orders core-memory blocks by id and pages with id comparisons.
  const asc = order === 'asc';
  let blocks = ctx.deps.store.blocksOf(rec).sort((x, y) => (x.id < y.id ? -1 : 1) * (asc ? 1 : -1));
  if (after !== null) blocks = blocks.filter((x) => (asc ? x.id > after : x.id < after));
  if (before !== null) blocks = blocks.filter((x) => (asc ? x.id < before : x.id > before));
  return limit !== null && limit > 0 ? blocks.slice(0, limit) : blocks;
}

function blockOr404(ctx: Ctx, c: Checks): { rec: AgentRecord; block: BlockResponse; label: string } {
  const agentId = c.pathId('agent_id', ctx.params.agent_id ?? '');
  const label = ctx.params.block_label ?? '';
  c.done();
  const rec = requireAgentAccess(ctx, agentId);
  const block = ctx.deps.store.blockByLabel(rec, label);
  if (!block) throw detailError(404, `No block with label '${label}' found for agent '${agentId}'`);
  return { rec, block, label };
}

const BLOCK_UPDATE_FIELDS = [
  'value',
  'limit',
  'project_id',
  'template_name',
  'is_template',
  'template_id',
  'base_template_id',
  'deployment_id',
  'entity_id',
  'preserve_on_migration',
  'label',
  'read_only',
  'description',
  'metadata',
  'hidden',
  'tags',
] as const;

async function updateBlock(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const b = bodyObject(c, ctx.body);
  stringField(c, b, ['body'], 'value', false);
  stringField(c, b, ['body'], 'label', false);
  stringListField(c, b, 'tags');
  const { rec, label } = blockOr404(ctx, c);
  // `exclude_unset=True, exclude_none=True`: nulls leave a field as it is.
  const update: Record<string, unknown> = {};
  for (const k of BLOCK_UPDATE_FIELDS) if (b[k] !== undefined && b[k] !== null) update[k] = b[k];
  return ctx.deps.store.upsertBlock(rec, label, update);
}

export const baseRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/health/',
    cost: 'none',
    handle: async (): Promise<HealthResponse> => ({ version: AGENT_VERSION, status: 'ok' }),
  },
  { method: 'GET', path: '/v1/agents/', cost: 'read', handle: listAgents },
  { method: 'POST', path: '/v1/agents/', cost: 'read', handle: createAgent },
  { method: 'GET', path: '/v1/agents/{agent_id}', cost: 'read', handle: retrieveAgent },
  { method: 'GET', path: '/v1/agents/{agent_id}/core-memory/blocks', cost: 'read', handle: listBlocks },
  {
    method: 'GET',
    path: '/v1/agents/{agent_id}/core-memory/blocks/{block_label}',
    cost: 'read',
    handle: async (ctx) => blockOr404(ctx, new Checks(ctx.query)).block,
  },
  {
    method: 'PATCH',
    path: '/v1/agents/{agent_id}/core-memory/blocks/{block_label}',
    cost: 'read',
    handle: updateBlock,
  },
];

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] ?? '';
    const val = p[i] ?? '';
    if (seg.startsWith('{')) {
      if (val === '') return undefined;
      params[seg.slice(1, -1)] = decodeURIComponent(val);
    } else if (seg !== val) return undefined;
  }
  return params;
}

/** Auth, routing (with FastAPI's 404/405 and trailing-slash redirects), profile delay, errors. */
export async function dispatch(routes: Route[], ctx: Omit<Ctx, 'params'>, rawQuery: string): Promise<void> {
  const { reply, deps } = ctx;
  try {
    const exempt = ctx.path === '/v1/health/';
    const auth = ctx.headers.authorization;
    const bare = ctx.headers['x-bare-password'];
    if (
      deps.apiKey !== undefined &&
      !exempt &&
      auth !== `Bearer ${deps.apiKey}` &&
      bare !== `password ${deps.apiKey}`
    ) {
      throw detailError(401, 'Unauthorized');
    }
    const candidates = routes.flatMap((r) => {
      const params = matchPath(r.path, ctx.path);
      return params ? [{ r, params }] : [];
    });
    const hit = candidates.find((x) => x.r.method === ctx.method);
    if (!hit) {
      if (candidates.length > 0) throw detailError(405, 'Method Not Allowed');
      const alt = ctx.path.endsWith('/') ? ctx.path.slice(0, -1) : `${ctx.path}/`;
      if (routes.some((r) => r.method === ctx.method && matchPath(r.path, alt))) {
        throw new HttpError(307, undefined, { location: alt + (rawQuery ? `?${rawQuery}` : '') });
      }
      throw detailError(404, 'Not Found');
    }
    if (ctx.body instanceof InvalidJson) throw invalidJsonError(ctx.body);
    if (hit.r.cost === 'read') await sleep(deps.sample(deps.profile.letta.read), deps.signal);
    const out = await hit.r.handle({ ...ctx, params: hit.params });
    if (out !== REPLIED) reply.json(200, out);
  } catch (e) {
    if (e instanceof HttpError) reply.json(e.status, e.body, e.headers);
    else reply.json(500, { detail: 'An unknown error occurred' });
  }
}
