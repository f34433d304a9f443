/** What every stand-in shares: an ephemeral loopback port, a request log and a clean close. */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Epoch milliseconds with sub-millisecond resolution, comparable across modules of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface RequestLogEntry {
  /** When the request arrived (epoch ms). */
  at: number;
  method: string;
  path: string;
  /** Parsed JSON body, when there was one. */
  body?: unknown;
  /** Service-specific facts: status sent, times each chunk really left, connection closed early. */
  [extra: string]: unknown;
}

export interface StandIn {
  /** Base URL to hand to the client (http://127.0.0.1:PORT/...). */
  url: string;
  /** Every request, in arrival order. Entries are mutated while a response is still streaming. */
  requests: RequestLogEntry[];
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0 picks a free one) and returns the port and a close that also ends open sockets. */
export async function listen(server: Server, port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      // Removing the listener matters: a paced stream sleeps many times on one signal.
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
