/** Injected failures for the Letta stand-in: what a flaky network or an overloaded server does. */
import { BUSY_DETAIL } from './http.ts';

export interface FaultMatch {
  method?: string;
  path?: RegExp;
}

export type FaultStatus = 500 | 502 | 503 | 409 | 422 | 429;

export type Fault =
  /** Every matching request waits `ms` before it is handled (until cleared). */
  | { kind: 'latency'; ms: number; match?: FaultMatch }
  /** Answer with this status before processing (`count` requests, default: until cleared). */
  | { kind: 'status'; status: FaultStatus; count?: number; match?: FaultMatch; retryAfterS?: number }
  /** Never answer; the request hangs until the client gives up. */
  | { kind: 'timeout'; count?: number; match?: FaultMatch }
  /** Destroy the socket before answering (nothing processed). */
  | { kind: 'reset'; count?: number; match?: FaultMatch }
  /** Process the request fully, then destroy the socket instead of answering. */
  | { kind: 'lost-response'; count?: number; match?: FaultMatch }
  /**
   * Admit a message-creating request (its run active, the agent locked), then keep it running
   * until released (`count` requests, default: until released or cleared).
   */
  | { kind: 'hold'; count?: number; match?: FaultMatch }
  /** Close the listener: connections are refused (ECONNREFUSED). */
  | { kind: 'down' }
  /** Listen again on the same port after 'down'. */
  | { kind: 'up' };

export type ResponseFault = Extract<Fault, { kind: 'status' | 'timeout' | 'reset' | 'lost-response' }>;

export type HoldFault = Extract<Fault, { kind: 'hold' }>;

type Armed = { fault: Extract<Fault, { kind: 'latency' }> } | { fault: ResponseFault | HoldFault; remaining: number };

/** What the archived server (or the proxy in front of it) sends for each injectable status. */
export const faultBodies: Record<FaultStatus, unknown> = {
  500: { detail: 'An unknown error occurred' },
  502: { detail: 'Bad Gateway' },
  503: { detail: 'The database is temporarily unavailable. Please try again later.' },
  409: { detail: BUSY_DETAIL },
  // What a handler's own validation raises (request validation adds a trace_id; see validate.ts).
  422: { detail: 'Messages must not be empty (injected by the Letta stand-in)' },
  429: {
    error: {
      type: 'llm_rate_limit',
      message: 'Rate limit exceeded for LLM model provider. Please wait before making another request.',
      detail: 'Rate limit reached (injected by the Letta stand-in)',
    },
  },
};

function matches(m: FaultMatch | undefined, method: string, path: string): boolean {
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== method.toUpperCase()) return false;
  if (m.path && !m.path.test(path)) return false;
  return true;
}

/** Armed latency and response faults, applied in the order they were set. */
export class FaultSet {
  private armed: Armed[] = [];

  add(f: Extract<Fault, { kind: 'latency' }> | ResponseFault | HoldFault): void {
    if (f.kind === 'latency') this.armed.push({ fault: f });
    else this.armed.push({ fault: f, remaining: f.count ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.armed = [];
  }

  /** Total injected latency for this request, and the first matching response fault (consumed). */
  take(method: string, path: string): { latencyMs: number; fault?: ResponseFault } {
    let latencyMs = 0;
    let fault: ResponseFault | undefined;
    for (const a of this.armed) {
      if (!matches(a.fault.match, method, path)) continue;
      if (a.fault.kind === 'latency') latencyMs += a.fault.ms;
      else if (a.fault.kind !== 'hold' && !fault && 'remaining' in a && a.remaining > 0) {
        fault = a.fault;
        a.remaining -= 1;
      }
    }
    this.#prune();
    return fault ? { latencyMs, fault } : { latencyMs };
  }

  /** Whether an armed 'hold' fault takes this admitted request (consumed). */
  takeHold(method: string, path: string): boolean {
    const a = this.armed.find(
      (x) => x.fault.kind === 'hold' && 'remaining' in x && x.remaining > 0 && matches(x.fault.match, method, path),
    );
    if (!a || !('remaining' in a)) return false;
    a.remaining -= 1;
    this.#prune();
    return true;
  }

  disarmHolds(): void {
    this.armed = this.armed.filter((a) => a.fault.kind !== 'hold');
  }

  #prune(): void {
    this.armed = this.armed.filter((a) => !('remaining' in a) || a.remaining > 0);
  }
}
