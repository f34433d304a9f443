/**
 * A caller's typed message, answered by their own Letta agent (the one that holds their voice
 * memory) with token streaming: Letta's agent loop, tools and memory, for conversations a fast
 * voice turn should not carry. It runs in the agent's lane between memory writes (one request per
 * agent at a time, across workers), after the quiet window, within bounded times. When no answer
 * comes, the caller is told so at once and nothing is lost: the exchange is journaled as a batch
 * under the request's own `otid`, so the writer first checks whether Letta got it after all.
 */
import { randomUUID } from 'node:crypto';
import type Letta from '@letta-ai/letta-client';
import type { Logger } from '../telemetry/logger.ts';
import type { TextReply } from '../voice/text-replies.ts';
import { messageText } from './letta-writes.ts';
import type { Turn } from './turn.ts';
import type { TurnWriter } from './writer/turn-writer.ts';

export interface LettaTextOptions {
  /** The caller's typed message → the first token of Letta's answer, lane wait included. */
  firstTokenMs?: number;
  /** The whole answer. */
  totalMs?: number;
}

export const defaultLettaTextOptions = {
  firstTokenMs: 15_000,
  totalMs: 60_000,
} as const;

/** What the caller reads when Letta does not answer in time: the message itself is kept. */
export const lettaUnavailableMessage =
  'My long-term memory is not answering right now, so I cannot reply to that in writing. I have kept your message and will remember it.';

class NoAnswer extends Error {}

export interface CallerText {
  agentId: () => Promise<string>;
  /** Stands for the agent id while Letta cannot be asked for it (see memory-service.ts). */
  placeholderAgentId: string;
  callerIdentity: string;
  sessionId: string;
}

export class LettaText {
  readonly #client: Letta;
  readonly #writer: TurnWriter;
  readonly #logger: Logger;
  readonly #firstTokenMs: number;
  readonly #totalMs: number;

  constructor(o: { client: Letta; writer: TurnWriter; logger: Logger } & LettaTextOptions) {
    this.#client = o.client;
    this.#writer = o.writer;
    this.#logger = o.logger;
    this.#firstTokenMs = o.firstTokenMs ?? defaultLettaTextOptions.firstTokenMs;
    this.#totalMs = o.totalMs ?? defaultLettaTextOptions.totalMs;
  }

  /** Streams Letta's answer to `onDelta`; never rejects. */
  async reply(caller: CallerText, text: string, onDelta: (delta: string) => void): Promise<TextReply> {
    const otid = randomUUID();
    const userAt = Date.now();
    const abort = new AbortController();
    const give = (why: string) => () => abort.abort(new NoAnswer(why));
    const firstToken = setTimeout(give(`no first token within ${this.#firstTokenMs} ms`), this.#firstTokenMs);
    const whole = setTimeout(give(`no whole answer within ${this.#totalMs} ms`), this.#totalMs);
    let answer = '';
    let sentAt: number | undefined;
    let agentId: string | undefined;
    try {
      agentId = await this.#beforeAbort(caller.agentId(), abort.signal);
      const id = agentId;
      const asked = this.#writer.withAgent(id, async (closing) => {
        // Its time ran out while it waited for the lane: the fallback below has it.
        if (abort.signal.aborted) return;
        closing.addEventListener('abort', () => abort.abort(new NoAnswer('the memory writer closed')), { once: true });
        sentAt = Date.now();
        const stream = await this.#client.agents.messages.create(
          id,
          { messages: [{ role: 'user', content: text, otid }], streaming: true, stream_tokens: true },
          { signal: abort.signal, timeout: this.#totalMs, maxRetries: 0 },
        );
        for await (const ev of stream) {
          if (ev.message_type === 'assistant_message') {
            const delta = messageText(ev.content);
            if (!delta) continue;
            clearTimeout(firstToken);
            answer += delta;
            onDelta(delta);
          } else if (ev.message_type === 'error_message') {
            throw new NoAnswer(`Letta reported ${ev.error_type}`);
          }
        }
      });
      await this.#beforeAbort(asked, abort.signal);
      if (!answer) throw new NoAnswer('Letta answered with no text');
      return { reply: answer };
    } catch (err) {
      const why = abort.signal.aborted ? (abort.signal.reason as Error).message : (err as Error).message;
      this.#logger.warn(
        { event: 'text_via_letta_failed', agentId, reason: why, answered: answer.length },
        'a typed message got no answer from Letta; it is kept for memory',
      );
      await this.#keep(caller, agentId, { text, answer, userAt, otid, sentAt });
      return { reply: answer, failed: lettaUnavailableMessage };
    } finally {
      clearTimeout(firstToken);
      clearTimeout(whole);
      abort.abort(new NoAnswer('done'));
    }
  }

  /** `p`, or a rejection as soon as `signal` aborts (the work behind `p` sees the signal itself). */
  #beforeAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      p.then(resolve, reject);
    });
  }

  /**
   * The exchange goes to memory once: as a batch under the request's otid if the request may have
   * reached Letta (the writer finds it there, or writes it), else as an ordinary turn.
   */
  async #keep(
    caller: CallerText,
    agentId: string | undefined,
    x: { text: string; answer: string; userAt: number; otid: string; sentAt: number | undefined },
  ): Promise<void> {
    const turn: Turn = {
      id: `turn-${randomUUID()}`,
      agentId: agentId ?? caller.placeholderAgentId,
      callerIdentity: caller.callerIdentity,
      sessionId: caller.sessionId,
      user: x.text,
      assistant: x.answer,
      interrupted: true,
      userAt: x.userAt,
      finishedAt: Date.now(),
    };
    if (x.sentAt === undefined) await this.#writer.submit(turn);
    else await this.#writer.submitSent([turn], x.otid, x.sentAt);
  }
}
