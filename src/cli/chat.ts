/**
 * `npm run chat`: talk to the same VoiceAgent in text, without LiveKit or audio. Interactive, or
 * `--script FILE` with one user turn per line. With no OPENAI_API_KEY, or with `--sim`, replies
 * come from the built-in OpenAI stand-in, and the CLI says so. With `--via letta`, each line goes
 * to the caller's own Letta agent instead, and its answer streams back as it comes.
 */
import { initializeLogger } from '@livekit/agents';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { OpenAIStandIn } from '../../sim/index.ts';
import { loadConfigOrExit } from '../config.ts';
import { createLogger } from '../telemetry/logger.ts';
import { openMemoryService } from '../memory/memory-service.ts';
import { noMemory } from '../voice/memory-context.ts';
import { QuietWindow } from '../voice/quiet-window.ts';
import { createReplyLLM } from '../voice/services.ts';
import { createTextSession } from '../voice/session-factory.ts';
import type { TextResponder } from '../voice/text-replies.ts';

const usage = `Usage: npm run chat -- [--script FILE] [--sim] [--identity NAME] [--via letta]
  --script FILE    one user turn per line; prints each reply, then exits
  --sim            use the built-in OpenAI stand-in even if OPENAI_API_KEY is set
  --identity NAME  who is calling: selects the caller's long-term memory (default: local-user)
  --via letta      answer through the caller's own Letta agent (needs LETTA_BASE_URL or LETTA_API_KEY)`;

function parse(): { script?: string; sim: boolean; identity: string; viaLetta: boolean } {
  try {
    const { values } = parseArgs({
      options: {
        script: { type: 'string' },
        sim: { type: 'boolean', default: false },
        identity: { type: 'string', default: 'local-user' },
        via: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.via !== undefined && values.via !== 'letta') throw new Error('--via takes letta');
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (!values.identity.trim()) throw new Error('--identity must not be empty');
    return {
      sim: values.sim,
      identity: values.identity.trim(),
      viaLetta: values.via === 'letta',
      ...(values.script !== undefined ? { script: values.script } : {}),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

/**
 * The stand-ins are not part of the product (the worker's image leaves sim/ out), so they are
 * loaded only when this CLI needs one, and their absence is a message rather than a crash.
 */
async function startStandIn(): Promise<OpenAIStandIn> {
  let standIns: typeof import('../../sim/index.ts');
  try {
    standIns = await import('../../sim/index.ts');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write('This install has no stand-ins (sim/ is left out of the image): set OPENAI_API_KEY.\n');
    process.exit(2);
  }
  return standIns.startOpenAIStandIn();
}

async function readScript(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
  } catch (err) {
    process.stderr.write(`Cannot read script ${file}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const args = parse();
  const config = loadConfigOrExit('chat');
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    secrets: config.secrets,
  });
  // The framework logs to stdout; in a text chat only its errors belong on screen.
  initializeLogger({ pretty: false, level: 'error' });
  const lines = args.script !== undefined ? await readScript(args.script) : null;

  const useSim = args.sim || config.openai.apiKey === undefined;
  const sim = useSim ? await startStandIn() : null;
  if (sim) {
    const why = args.sim ? '--sim' : 'no OPENAI_API_KEY';
    process.stdout.write(`[chat] using the built-in OpenAI stand-in at ${sim.url} (${why}); replies are canned.\n`);
  }
  const openai = sim
    ? { apiKey: 'sim', baseURL: sim.url, model: config.openai.model }
    : { apiKey: config.openai.apiKey ?? '', baseURL: config.openai.baseURL, model: config.openai.model };

  const quiet = new QuietWindow();
  const service = openMemoryService(config, logger, quiet);
  const callerMemory = service?.open(args.identity, `chat-${randomUUID()}`);
  const responder = args.viaLetta ? callerMemory?.text : undefined;
  if (args.viaLetta && !responder) {
    process.stderr.write('--via letta needs Letta: set LETTA_BASE_URL (or LETTA_API_KEY for Letta Cloud)\n');
    process.exit(2);
  }
  if (callerMemory) {
    process.stdout.write(`[chat] memory: Letta at ${config.letta.baseURL}, caller "${args.identity}"\n`);
    await callerMemory.ready;
    // A chat's first line comes at once, while a new caller's agent may still be being created: its
    // turns wait for the agent within the read budget, so that they queue in the agent's own lane and
    // not under a placeholder beside it (two lanes of one agent would write side by side).
    await Promise.race([callerMemory.agentId.catch(() => undefined), sleep(config.letta.memoryBudgetMs)]);
  } else {
    process.stdout.write('[chat] memory: none (set LETTA_API_KEY or LETTA_BASE_URL to remember callers)\n');
  }

  const { session, agent } = createTextSession({
    llm: createReplyLLM(openai),
    memory: callerMemory?.context ?? noMemory,
    logger,
    memoryMaxChars: config.letta.memoryMaxChars,
    greeting: null,
    ...(config.instructions !== undefined ? { instructions: config.instructions } : {}),
  });
  const stopRecording = callerMemory?.record(session);
  await session.start({ agent });

  const turnKey = Symbol('chat turn');
  const viaLetta = async (to: TextResponder, text: string): Promise<string> => {
    const r = await to.reply(text, (delta) => process.stdout.write(delta));
    return r.failed ? `${r.reply ? '\n' : ''}${r.failed}` : '';
  };
  const viaVoiceAgent = async (text: string): Promise<string> => {
    // Text has no "caller stopped speaking": the whole reply is the window memory traffic stays out of.
    quiet.hold(turnKey);
    try {
      const result = await session.run({ userInput: text }).wait();
      return result.events
        .flatMap((e) => (e.type === 'message' && e.item.role === 'assistant' ? [e.item.textContent ?? ''] : []))
        .join(' ');
    } finally {
      quiet.release(turnKey);
    }
  };

  try {
    // Through Letta the answer streams to the terminal as it comes; the voice agent's is printed whole.
    const reply = async (line: string): Promise<void> => {
      process.stdout.write('agent> ');
      process.stdout.write(`${responder ? await viaLetta(responder, line) : await viaVoiceAgent(line)}\n`);
    };
    if (lines) {
      for (const line of lines) {
        process.stdout.write(`you> ${line}\n`);
        await reply(line);
      }
    } else {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      process.stdout.write('Type a message; Ctrl+D or /quit to leave.\n');
      for (;;) {
        let line: string;
        try {
          line = (await rl.question('you> ')).trim();
        } catch {
          break; // stdin closed
        }
        if (line === '/quit') break;
        if (line) await reply(line);
      }
      rl.close();
    }
  } finally {
    stopRecording?.();
    await session.close();
    if (service) {
      const { pending } = await service.close(config.letta.shutdownFlushMs);
      if (pending.length > 0) {
        process.stdout.write(`[chat] ${pending.length} turn(s) not yet in Letta; journaled, sent on the next start\n`);
      }
    }
    await sim?.close();
  }
}

await main();
// The framework keeps timers alive after the session closes; the CLI is done.
process.exit(0);
