/**
 * What a failed Letta request means for the batch it carried, how long to wait before the next
 * try, and how to describe the failure in a log line without quoting the transcript.
 */
import { APIConnectionError, APIError } from '@letta-ai/letta-client';
import { AgentTemplateRefused } from '../agent-directory.ts';
import { WriteModeChanged } from '../letta-writes.ts';

/** What to do after a failed request. */
export type Failure =
  | { kind: 'mode-changed' }
  /** 409: another request for this agent is running. Not a failure of ours. */
  | { kind: 'busy'; retryAfterMs?: number }
  /** 429 or connection refused: nothing processed. */
  | { kind: 'refused'; retryAfterMs?: number }
  /** Timeout, 408, 5xx, connection lost: the request may have been processed. */
  | { kind: 'ambiguous'; retryAfterMs?: number }
  | { kind: 'auth'; status: number }
  /** Other 4xx: the request itself is wrong; sending it again cannot help. */
  | { kind: 'invalid'; status: number };

function retryAfterMs(err: APIError): number | undefined {
  const h = err.headers;
  if (!h) return undefined;
  const ms = Number.parseFloat(h.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const ra = h.get('retry-after');
  if (ra === null) return undefined;
  const s = Number.parseFloat(ra);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function withRetryAfter<K extends 'busy' | 'refused' | 'ambiguous'>(
  kind: K,
  err: APIError,
): { kind: K; retryAfterMs?: number } {
  const ra = retryAfterMs(err);
  return ra === undefined ? { kind } : { kind, retryAfterMs: ra };
}

/** The system error code under a connection error (fetch wraps it twice), e.g. ECONNREFUSED. */
function connectionCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export type FailureKind = Failure['kind'];

export function classify(err: unknown): Failure {
  if (err instanceof WriteModeChanged) return { kind: 'mode-changed' };
  // The caller's agent could not be created (a setting Letta refuses): nothing was sent, and the
  // turns must wait in the journal for the fix rather than go to the dead letters.
  if (err instanceof AgentTemplateRefused) return { kind: 'refused' };
  // Refused before a byte was sent: certainly not processed.
  if (err instanceof APIConnectionError && connectionCode(err) === 'ECONNREFUSED') return { kind: 'refused' };
  // Other connection errors (incl. timeouts) carry no status: the request may have reached Letta.
  if (!(err instanceof APIError) || err instanceof APIConnectionError || err.status === undefined)
    return { kind: 'ambiguous' };
  const s = err.status;
  if (s === 409) return withRetryAfter('busy', err);
  if (s === 429) return withRetryAfter('refused', err);
  if (s === 408 || s >= 500) return withRetryAfter('ambiguous', err);
  if (s === 401 || s === 403) return { kind: 'auth', status: s };
  if (s >= 400) return { kind: 'invalid', status: s };
  return { kind: 'ambiguous' };
}

/** A log-safe description: status and error class, never a body (bodies can quote the transcript). */
export function summary(err: unknown): string {
  if (err instanceof APIError) {
    if (err.status !== undefined) return `${err.status} ${err.constructor.name}`;
    const code = connectionCode(err);
    return code ? `${err.constructor.name} (${code})` : err.constructor.name;
  }
  return err instanceof Error ? err.constructor.name : 'unknown error';
}

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Upper bound on a server-requested Retry-After. */
  maxRetryAfterMs: number;
  /** Jitter source in [0, 1). */
  random: () => number;
}

/** Full-jitter exponential backoff: the n-th wait (from 0) is uniform in [0, min(cap, base·2ⁿ)). */
export class Backoff {
  readonly #o: BackoffOptions;

  constructor(o: BackoffOptions) {
    this.#o = o;
  }

  get baseMs(): number {
    return this.#o.baseMs;
  }

  get capMs(): number {
    return this.#o.capMs;
  }

  delay(n: number): number {
    return Math.round(this.#o.random() * Math.min(this.#o.capMs, this.#o.baseMs * 2 ** n));
  }

  /** A server's Retry-After, else the n-th backoff; never past the bound. */
  after(retryAfterMs: number | undefined, n: () => number): number {
    return Math.min(retryAfterMs ?? this.delay(n()), this.#o.maxRetryAfterMs);
  }
}
