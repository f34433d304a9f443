/**
 * Run endpoints of the Letta stand-in. Every message-creating request through the agent is a Run,
 * active (`created` or `running`) from the moment the agent is locked until its step ends, so a
 * client can ask whether Letta is still working for an agent, as the server's `active=true` filter
 * answers it.
 */
import type { Ctx, Route } from './routes.ts';
import { page } from './routes.ts';
import { detailError } from './http.ts';
import { Checks } from './validate.ts';

const ACTIVE = ['created', 'running'];

async function retrieveRun(ctx: Ctx): Promise<unknown> {
  const runId = ctx.params.run_id ?? '';
  const run = ctx.deps.store.run(runId);
  if (!run) throw detailError(404, `Run with id ${runId} not found`);
  return run;
}

/** `GET /v1/runs/`: newest first by default, filtered as the server filters (agent, statuses, active). */
async function listRuns(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const agentId = c.str('agent_id');
  const agentIds = c.list('agent_ids');
  const active = c.bool('active', false);
  const statuses = active ? ACTIVE : c.list('statuses');
  const background = c.str('background') === null ? null : c.bool('background', false);
  const limit = c.int('limit', 100);
  const ascending = c.bool('ascending', false);
  const order = c.literal('order', ['asc', 'desc'], ascending ? 'asc' : 'desc');
  c.literal('order_by', ['created_at'], 'created_at');
  const after = c.str('after');
  const before = c.str('before');
  c.done();
  const agents = agentId !== null ? [agentId] : agentIds;
  const runs = ctx.deps.store
    .runs()
    .filter((r) => agents === null || agents.includes(r.agent_id ?? ''))
    .filter((r) => statuses === null || statuses.includes(r.status ?? ''))
    .filter((r) => background === null || r.background === background);
  return page(order === 'desc' ? runs.reverse() : runs, after, before, limit);
}

export const runRoutes: Route[] = [
  { method: 'GET', path: '/v1/runs/{run_id}', cost: 'read', handle: retrieveRun },
  // In Letta's published API; outside the voice subset the conformance test checks against.
  { method: 'GET', path: '/v1/runs/', cost: 'read', outsideSubset: true, handle: listRuns },
];
