/**
 * The real-Letta tier's one server: the OpenAI stand-in that Letta's agent loop and embeddings call,
 * then Letta's own server (scripts/letta-server.sh) over it, with a fresh database. Test files get
 * the URLs through `inject`, and steer the two through a small control endpoint on loopback: how
 * long a Letta agent step takes at the model, and stopping or starting the server.
 */
import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startLettaServer } from '../../bench/harness/letta-server.ts';
import { defaultResponder, listen, startOpenAIStandIn } from '../../sim/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    lettaUrl: string;
    /** POST /step-delay?ms=N, POST /letta/stop, POST /letta/start. */
    lettaControlUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let stepDelayMs = 0;
  const answer = defaultResponder();
  const openai = await startOpenAIStandIn({ respond: (req, i) => ({ ...answer(req, i), ttftMs: stepDelayMs }) });
  const letta = await startLettaServer({ openaiBaseUrl: openai.url });

  const control = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const done = (status: number, text = 'ok'): void => void res.writeHead(status).end(text);
    const act = async (): Promise<void> => {
      if (req.method !== 'POST') return done(405);
      if (url.pathname === '/step-delay') {
        stepDelayMs = Number(url.searchParams.get('ms') ?? 0);
        return done(200);
      }
      if (url.pathname === '/letta/stop') return (await letta.stop(), done(200));
      if (url.pathname === '/letta/start') return (await letta.start(), done(200));
      done(404);
    };
    act().catch((err: unknown) => done(500, String(err)));
  });
  const { port, close } = await listen(control);

  project.provide('lettaUrl', letta.url);
  project.provide('lettaControlUrl', `http://127.0.0.1:${port}`);
  return async () => {
    await close();
    await letta.close();
    await openai.close();
  };
}
