/**
 * What every route handler of the Letta stand-in is given: the shared state (`Deps`) and the
 * request (`Ctx`), and the shape of a route. Its own module so that the route files can name these
 * without importing each other.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type OpenAI from 'openai';
import type { Dist, LatencyProfile } from '../profile.ts';
import type { Reply } from './http.ts';
import type { LettaStore } from './store.ts';

/** The model handles the stand-in offers (models.ts). */
export interface Offered {
  llm: string[];
  embedding: string[];
}

export interface Deps {
  store: LettaStore;
  profile: LatencyProfile;
  sample: (d: Dist) => number;
  llm: OpenAI | undefined;
  /** Aborted when the stand-in closes: ends waits and model calls. */
  signal: AbortSignal;
  /** Agent id → run id of the message-creating request in flight for it. */
  busy: Map<string, string>;
  /** Awaited by a message-creating request once it holds the agent: where a 'hold' fault keeps it running. */
  hold: (method: string, path: string) => Promise<void>;
  apiKey: string | undefined;
  /** Which server's behaviour where Letta Cloud and Letta's own server differ (see `LettaStandInOptions`). */
  server: 'cloud' | 'self-hosted';
  /** How an agent step edits memory (see `LettaStandInOptions`). */
  memoryEdits: 'notes' | 'tools';
  /** The model server's base URL, as agents and passages report it. */
  modelEndpoint: string;
  /** When the stand-in started: the default user's `updated_at`, which some 404s print. */
  startedAt: Date;
  /** The handles offered, once asked (models.ts). */
  offered?: Promise<Offered>;
}

export interface Ctx {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  query: Record<string, string[]>;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
  reply: Reply;
  deps: Deps;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH';
  /** The OpenAPI path template, e.g. `/v1/agents/{agent_id}`. */
  path: string;
  /** Profile delay applied before the handler: `read` = letta.read; `none` = none (the step handlers wait themselves). */
  cost: 'none' | 'read';
  /** Left out of Letta's published schema (`include_in_schema=False`). */
  hidden?: boolean;
  /** In Letta's published schema, but not in the voice-endpoint subset the conformance test reads. */
  outsideSubset?: boolean;
  handle: (ctx: Ctx) => Promise<unknown>;
}
