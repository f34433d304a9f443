/**
 * A stand-in for the Letta REST API (`@letta-ai/letta-client` 1.12.1 talks to it unchanged):
 * the endpoints a voice worker uses, with the archived open-source server's (0.16.8) status codes
 * and bodies, agent steps that call a real OpenAI-compatible model, step vs token streaming,
 * and injectable faults (latency, 5xx, hangs, resets, lost responses, refused connections).
 * test/letta/differential.test.ts holds it to Letta's own server, call by call.
 *
 * Two options choose between behaviours on purpose:
 * - `server`: 'cloud' (default) models Letta Cloud where it differs from Letta's own server: a
 *   second message-creating request (messages, async, capture) for an agent with one in flight gets
 *   409 (the conversation lock; the self-hosted messages endpoint takes none and runs both), message
 *   search is served (self-hosted: 400 without Turbopuffer), and any `provider/model` handle is
 *   accepted (self-hosted: only the handles it lists, `openai-proxy/<model>` behind a non-OpenAI
 *   base URL). 'self-hosted' answers as Letta's own server does.
 * - `memoryEdits`: 'notes' (default) makes one model call per step with no tools, then a
 *   deterministic edit: a `- <text>` line per user message (per caller line of a transcript)
 *   appended to `human`, skipped when it would pass the block's limit, so every test sees memory
 *   change whatever its model answers. 'tools' does what the server does: the model is offered
 *   Letta's memory tools, a step whose model calls one runs it (tool-call and tool-return messages)
 *   and the loop goes on until the model answers in plain text (or `max_steps`).
 *
 * Where it still knowingly differs from that server:
 * - `conversation_search` ranks by shared words; the agent's tools are not listed in AgentState;
 * - a captured turn changes memory only for an agent with `enable_sleeptime`, through the 'notes'
 *   edit (the server runs a sleep-time agent);
 * - a 'latency' fault delays a request before it reaches the agent (the network, a proxy, a queue):
 *   it is not yet a run; a 'hold' fault keeps an admitted request running (its run active, the
 *   agent locked on 'cloud') until released, as a slow agent step does;
 * - `background: true` streams in the foreground; dates carry milliseconds and `Z`.
 */
import { serveFromCommandLine } from './cli.ts';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import OpenAI from 'openai';
import type { LatencyProfile } from './profile.ts';
import { profiles, sampler, seededRandom } from './profile.ts';
import type { StandIn } from './server.ts';
import { listen, nowMs, sleep } from './server.ts';
import type { Fault } from './letta/faults.ts';
import { FaultSet, faultBodies } from './letta/faults.ts';
import type { LettaRequestLogEntry } from './letta/http.ts';
import { HttpReply, InvalidJson, parseQuery, readBody } from './letta/http.ts';
import { captureRoute, messageRoutes } from './letta/messages.ts';
import { modelRoutes } from './letta/models.ts';
import { passageRoutes } from './letta/passages.ts';
import { runRoutes } from './letta/runs.ts';
import { searchRoutes } from './letta/search.ts';
import type { Deps, Route } from './letta/routes.ts';
import { baseRoutes, dispatch } from './letta/routes.ts';
import type {
  AgentCreateParams,
  AgentRecord,
  AgentState,
  BlockResponse,
  LettaMessage,
  Passage,
} from './letta/store.ts';
import { LettaStore } from './letta/store.ts';

export type { Fault, FaultMatch } from './letta/faults.ts';
export type { LettaRequestLogEntry, SentEvent } from './letta/http.ts';

export interface LettaStandInOptions {
  profile?: LatencyProfile;
  seed?: number;
  port?: number;
  /** When set, requests need `Authorization: Bearer <apiKey>` (health is exempt), else 401. */
  apiKey?: string;
  /** OpenAI-compatible base URL (`http://127.0.0.1:P/v1`) the agents use as their model; without it replies are a fixed acknowledgement. */
  modelBaseUrl?: string;
  /** Default true; false makes the hidden `/messages/capture` route answer 404, like a server without it. */
  captureEndpoint?: boolean;
  /** Whose behaviour where Letta Cloud and Letta's own server differ (see the header). Default 'cloud'. */
  server?: 'cloud' | 'self-hosted';
  /** How agent steps edit memory: 'notes' (default, deterministic) or 'tools' (the model's tool calls, as the server). */
  memoryEdits?: 'notes' | 'tools';
}

export interface LettaStandIn extends StandIn {
  requests: LettaRequestLogEntry[];
  faults: {
    /** Arms a fault (they apply in the order set). 'down' resolves once the port is closed, 'up' once it listens again. */
    set(f: Fault): Promise<void>;
    /** Disarms every fault, lets held requests go on and, after 'down', listens again on the same port. */
    clear(): Promise<void>;
    /** Lets every request a 'hold' fault keeps go on, and disarms the 'hold' faults. */
    release(): void;
    /** Requests a 'hold' fault keeps now. */
    held(): number;
  };
  /** What the stand-in was sent, and hooks for tests. */
  store: {
    agents(): AgentState[];
    messages(agentId: string): LettaMessage[];
    passages(agentId: string): Passage[];
    captures(agentId: string): unknown[];
    setBlock(agentId: string, label: string, value: string): void;
    blocks(agentId: string): BlockResponse[];
    createAgent(partial: AgentCreateParams): AgentState;
  };
}

/**
 * Every method + OpenAPI path the stand-in serves; `hidden` ones are absent from Letta's schema,
 * `outsideSubset` ones from the voice subset of it.
 */
export const lettaRoutes: readonly { method: string; path: string; hidden: boolean; outsideSubset: boolean }[] = [
  ...baseRoutes,
  ...passageRoutes,
  ...messageRoutes,
  ...runRoutes,
  ...searchRoutes,
  ...modelRoutes,
  captureRoute,
].map((r) => ({ method: r.method, path: r.path, hidden: r.hidden === true, outsideSubset: r.outsideSubset === true }));

export async function startLettaStandIn(opts: LettaStandInOptions = {}): Promise<LettaStandIn> {
  const abort = new AbortController();
  const modelEndpoint = opts.modelBaseUrl ?? 'https://api.openai.com/v1';
  const store = new LettaStore(modelEndpoint);
  const faults = new FaultSet();
  let holding: (() => void)[] = [];
  const releaseHeld = (): void => {
    faults.disarmHolds();
    for (const go of holding.splice(0)) go();
  };
  const deps: Deps = {
    store,
    profile: opts.profile ?? profiles.instant,
    sample: sampler(seededRandom(opts.seed ?? 1)),
    llm: opts.modelBaseUrl
      ? new OpenAI({ baseURL: opts.modelBaseUrl, apiKey: 'letta-stand-in', maxRetries: 0 })
      : undefined,
    signal: abort.signal,
    busy: new Map(),
    hold: (method, path) =>
      faults.takeHold(method, path)
        ? new Promise<void>((resolve) => {
            holding.push(resolve);
            abort.signal.addEventListener('abort', () => resolve(), { once: true });
          })
        : Promise.resolve(),
    apiKey: opts.apiKey,
    server: opts.server ?? 'cloud',
    memoryEdits: opts.memoryEdits ?? 'notes',
    modelEndpoint,
    startedAt: new Date(),
  };
  const routes: Route[] = [
    ...baseRoutes,
    ...passageRoutes,
    ...messageRoutes,
    ...runRoutes,
    ...searchRoutes,
    ...modelRoutes,
    ...(opts.captureEndpoint === false ? [] : [captureRoute]),
  ];
  const requests: LettaRequestLogEntry[] = [];

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const entry: LettaRequestLogEntry = {
      at: nowMs(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: parseQuery(url.searchParams),
    };
    requests.push(entry);
    const raw = await readBody(req);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
        entry.body = body;
      } catch (e) {
        body = new InvalidJson(e, raw);
        entry.body = raw;
      }
    }
    const { latencyMs, fault } = faults.take(entry.method, entry.path);
    if (latencyMs > 0) await sleep(latencyMs, abort.signal);
    if (fault?.kind === 'timeout') {
      entry.fault = 'timeout';
      res.on('close', () => (entry.finishedAt = nowMs()));
      return;
    }
    if (fault?.kind === 'reset') {
      entry.fault = 'reset';
      req.socket.destroy();
      entry.finishedAt = nowMs();
      return;
    }
    const reply = new HttpReply(res, entry, fault?.kind === 'lost-response');
    if (fault?.kind === 'status') {
      entry.fault = 'status';
      reply.json(
        fault.status,
        faultBodies[fault.status],
        fault.retryAfterS === undefined ? {} : { 'retry-after': String(fault.retryAfterS) },
      );
      return;
    }
    await dispatch(
      routes,
      { method: entry.method, path: entry.path, headers: req.headers, query: entry.query, body, reply, deps },
      url.search.slice(1),
    );
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch(() => res.destroy());
  };
  let listener = await listen(createServer(handler), opts.port ?? 0);
  const port = listener.port;
  let down = false;

  async function setDown(wantDown: boolean): Promise<void> {
    if (wantDown && !down) {
      down = true;
      await listener.close();
    } else if (!wantDown && down) {
      listener = await listen(createServer(handler), port);
      down = false;
    }
  }

  const must = (agentId: string): AgentRecord => {
    const rec = store.record(agentId);
    if (!rec) throw new Error(`Letta stand-in: no agent ${agentId}`);
    return rec;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults: {
      set: async (f) => {
        if (f.kind === 'down' || f.kind === 'up') return setDown(f.kind === 'down');
        faults.add(f);
      },
      clear: async () => {
        releaseHeld();
        faults.clear();
        await setDown(false);
      },
      release: releaseHeld,
      held: () => holding.length,
    },
    store: {
      agents: () => store.records().map((r) => store.view(r)),
      // What was written to the agent: its system message (written by the stand-in itself) is left out.
      messages: (id) => must(id).messages.filter((m) => m.id !== must(id).systemId),
      passages: (id) => [...must(id).passages],
      captures: (id) => [...must(id).captures],
      setBlock: (id, label, value) => void store.upsertBlock(must(id), label, { value }),
      blocks: (id) => store.blocksOf(must(id)).map((b) => ({ ...b })),
      createAgent: (partial) => store.createAgent(partial),
    },
    close: async () => {
      holding = [];
      abort.abort();
      if (!down) await listener.close();
      down = true;
    },
  };
}

if (import.meta.main) {
  await serveFromCommandLine('letta', ['model-base-url', 'server', 'memory-edits'], (common, extra) =>
    startLettaStandIn({
      ...common,
      ...(extra['model-base-url'] !== undefined ? { modelBaseUrl: extra['model-base-url'] } : {}),
      ...(extra.server === 'self-hosted' || extra.server === 'cloud' ? { server: extra.server } : {}),
      ...(extra['memory-edits'] === 'tools' || extra['memory-edits'] === 'notes'
        ? { memoryEdits: extra['memory-edits'] }
        : {}),
    }),
  );
}
