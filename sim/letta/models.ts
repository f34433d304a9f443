/**
 * The model handles a Letta server offers (`GET /v1/models/`, `GET /v1/models/embedding`), and the
 * check `POST /v1/agents/` makes against them.
 *
 * Letta's own server (`server: 'self-hosted'`) lists `letta/letta-free` plus one handle per model
 * its OpenAI base URL lists: `openai-proxy/<id>` when that URL is not OpenAI's own; embedding
 * handles stay `openai/<id>`. It refuses an agent whose model or embedding handle it does not
 * list. On Letta Cloud (`server: 'cloud'`, the default) any `provider/model` handle is accepted
 * and the lists hold `openai/<id>`.
 */
import type { EmbeddingModel, Model } from '@letta-ai/letta-client/resources/models/models';
import { detailError } from './http.ts';
import type { Ctx, Deps, Offered, Route } from './context.ts';
import { embeddingConfigFor, llmConfigFor } from './store.ts';
import { Checks } from './validate.ts';

const LETTA_FREE = 'letta/letta-free';
const LETTA_FREE_ENDPOINT = 'https://inference.letta.com/v1/';
const OPENAI_API = 'https://api.openai.com/v1';
/** What the stand-in assumes a model server lists when it cannot ask one. */
const FALLBACK_IDS = ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];
const isEmbedding = (id: string): boolean => id.startsWith('text-embedding');

async function modelIds(deps: Deps): Promise<string[]> {
  if (!deps.llm) return FALLBACK_IDS;
  try {
    const ids: string[] = [];
    for await (const m of deps.llm.models.list()) ids.push(m.id);
    return ids;
  } catch {
    return FALLBACK_IDS;
  }
}

/** The handles offered now (the model server is asked once; its list does not change). */
export async function offered(deps: Deps): Promise<Offered> {
  deps.offered ??= (async () => {
    const ids = [...new Set(await modelIds(deps))].sort();
    const embeddings = ids.filter(isEmbedding).map((id) => `openai/${id}`);
    if (deps.server === 'cloud')
      return { llm: ids.filter((id) => !isEmbedding(id)).map((id) => `openai/${id}`), embedding: embeddings };
    const proxied = deps.modelEndpoint !== OPENAI_API;
    const llm = ids.map((id) => `${proxied ? 'openai-proxy' : 'openai'}/${id}`);
    return { llm: [LETTA_FREE, ...llm].sort(), embedding: [LETTA_FREE, ...embeddings].sort() };
  })();
  return deps.offered;
}

/**
 * The server's refusals of an agent's handles (self-hosted only): an unknown model is a 404
 * (HandleNotFoundError, whose list of alternatives the server leaves empty), an unknown embedding a 400.
 */
export async function checkHandles(deps: Deps, model: string | null, embedding: string | null): Promise<void> {
  if (deps.server === 'cloud') return;
  const o = await offered(deps);
  if (model !== null && !o.llm.includes(model))
    throw detailError(404, `NOT_FOUND: Handle ${model} not found, must be one of []`);
  if (embedding !== null && !o.embedding.includes(embedding))
    throw detailError(400, `INVALID_ARGUMENT: Embedding model ${embedding} not found`);
}

function endpointOf(deps: Deps, handle: string): string {
  return handle === LETTA_FREE ? LETTA_FREE_ENDPOINT : deps.modelEndpoint;
}

function llmModel(deps: Deps, handle: string): Model {
  const free = handle === LETTA_FREE;
  const config = llmConfigFor(handle, endpointOf(deps, handle), free ? 30000 : 128000);
  return {
    ...config,
    ...(free ? { max_tokens: 4096, provider_name: 'letta' } : {}),
    name: config.model,
    display_name: config.model,
    provider_type: 'openai',
    model_type: 'llm',
    enable_reasoner: true,
    max_context_window: config.context_window,
  } as Model;
}

function embeddingModel(deps: Deps, handle: string): EmbeddingModel {
  const config = embeddingConfigFor(handle, endpointOf(deps, handle));
  return {
    ...config,
    name: config.embedding_model,
    display_name: config.embedding_model,
    provider_type: 'openai',
    provider_name: 'openai',
    model_type: 'embedding',
  };
}

async function listModels(ctx: Ctx): Promise<unknown> {
  const c = new Checks(ctx.query);
  const categories = c.literalList('provider_category', ['base', 'byok']);
  const providerName = c.str('provider_name');
  const providerType = c.str('provider_type');
  c.done();
  const models = (await offered(ctx.deps)).llm.map((h) => llmModel(ctx.deps, h));
  return models.filter(
    (m) =>
      (categories === null || categories.includes(m.provider_category ?? 'base')) &&
      (providerName === null || m.provider_name === providerName) &&
      (providerType === null || m.provider_type === providerType),
  );
}

async function listEmbeddingModels(ctx: Ctx): Promise<unknown> {
  new Checks(ctx.query).done();
  return (await offered(ctx.deps)).embedding.map((h) => embeddingModel(ctx.deps, h));
}

export const modelRoutes: Route[] = [
  // In Letta's published API; outside the voice subset the conformance test checks against.
  { method: 'GET', path: '/v1/models/', cost: 'read', outsideSubset: true, handle: listModels },
  { method: 'GET', path: '/v1/models/embedding', cost: 'read', outsideSubset: true, handle: listEmbeddingModels },
];
