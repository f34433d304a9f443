/**
 * `--letta server`: Letta's own server (0.16.8, self-hosted; `harness/letta-server.ts`) in place of
 * the Letta stand-in, for the memory scenario. Its agent steps and embeddings go to an OpenAI
 * stand-in with the run's latency profile, whose replies can be slowed while a phase runs; `stop`
 * and `start` take the server down and bring it back with its data. What landed is read from the
 * server's own store, never from the writer's log.
 */
import Letta from '@letta-ai/letta-client';
import { messageText } from '../src/memory/letta-writes.ts';
import { type LettaEndpoint, lettaModelResponder } from './backend.ts';
import { type LettaServer, startLettaServer } from './harness/letta-server.ts';
import {
  type LatencyProfile,
  type OpenAIStandIn,
  type Responder,
  defaultResponder,
  startOpenAIStandIn,
} from '../sim/index.ts';

/** The server's version (scripts/letta-server.sh pins it). */
export const lettaServerVersion = '0.16.8';

/**
 * The handle a self-hosted server lists for OpenAI's gpt-4.1-mini when its OpenAI base URL is not
 * OpenAI's (here: the stand-in); it refuses `openai/gpt-4.1-mini`.
 */
export const serverAgentModel = 'openai-proxy/gpt-4.1-mini';

/**
 * The server's model: a step that calls Letta's memory tool does so (the stand-in writes the facts a
 * caller stated into the human block), every other step answers as the stand-in's Letta agents'
 * model does (`lettaModelResponder`: one short note to a call transcript). While `slowMs()` is above
 * 0 every model call waits that long for its first token, so each of Letta's agent steps is slow.
 */
export function serverModelResponder(slowMs: () => number): Responder {
  const step = defaultResponder();
  const note = lettaModelResponder();
  return (req, i) => {
    const tool = step(req, i);
    const reply = tool.toolCalls?.length ? tool : note(req, i);
    const ms = slowMs();
    return ms > 0 ? { ...reply, ttftMs: ms } : reply;
  };
}

export interface ServerLetta {
  /** For the memory host; its `close` leaves the server running (it serves every journal's run). */
  endpoint: LettaEndpoint;
  server: LettaServer;
  /** The stand-in Letta's agent steps call. */
  model: OpenAIStandIn;
  /** From now on every model call of Letta's agent steps waits `ms` for its first token (0: the profile's draw). */
  slowSteps(ms: number): void;
  /** Reads the server's own store. */
  client: Letta;
  /** Stops the server and removes its data, then the model stand-in. */
  close(): Promise<void>;
}

/**
 * Starts the OpenAI stand-in (the run's profile; the seed the Letta stand-in's model gets) and the
 * server over it, on a fresh database: about half a minute on two cores once installed. When the
 * server cannot be installed or started this throws with scripts/letta-server.sh's own message.
 */
export async function startServerLetta(o: { profile: LatencyProfile; seed: number }): Promise<ServerLetta> {
  let slowMs = 0;
  const model = await startOpenAIStandIn({
    profile: o.profile,
    seed: o.seed ^ 0x5bd1e995,
    respond: serverModelResponder(() => slowMs),
  });
  let server: LettaServer;
  try {
    server = await startLettaServer({ openaiBaseUrl: model.url });
  } catch (err) {
    await model.close();
    throw err;
  }
  const client = new Letta({ baseURL: server.url, apiKey: null, maxRetries: 0, timeout: 60_000, logLevel: 'off' });
  return {
    endpoint: { baseURL: server.url, agentModel: serverAgentModel, model, close: async () => {} },
    server,
    model,
    slowSteps(ms) {
      slowMs = ms;
    },
    client,
    async close() {
      try {
        await server.close();
      } finally {
        await model.close();
      }
    },
  };
}

/** What the server holds for an agent from the writer. */
export interface ServerStore {
  /** Its user messages' texts, then its passages' texts. */
  texts: string[];
  userMessages: number;
  /** Distinct `otid`s among the user messages (the writer's batch ids in messages mode). */
  otids: number;
  passages: number;
}

/** Every text the writer can have put into an agent on the server: its user messages (all pages) and its passages. */
export async function readServerStore(client: Letta, agentId: string): Promise<ServerStore> {
  const texts: string[] = [];
  const otids = new Set<string>();
  for await (const m of client.agents.messages.list(agentId, { order: 'asc', limit: 100 })) {
    if (m.message_type !== 'user_message') continue;
    texts.push(messageText(m.content));
    if (m.otid) otids.add(m.otid);
  }
  const userMessages = texts.length;
  const passages = await client.agents.passages.list(agentId, { limit: 1000, ascending: true });
  texts.push(...passages.map((p) => p.text));
  return { texts, userMessages, otids: otids.size, passages: passages.length };
}
