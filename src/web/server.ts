/**
 * The join page's HTTP server: the page's static files, livekit-client's browser bundle straight
 * from node_modules (no build step), the token endpoint, and what the page is told about the
 * setup (which services are stand-ins). node:http is enough for these few routes.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientUrl } from '../cli/token.ts';
import type { PageSetup } from '../config.ts';
import { answerTokenRequest, maxBodyBytes, type TokenEndpointOptions } from './token-endpoint.ts';

const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
const livekitClientDir = join(dirname(createRequire(import.meta.url).resolve('livekit-client')), '..', 'dist');

/** path → file and type. A fixed table: no request path ever reaches the file system. */
const files: Record<string, { file: string; type: string }> = {
  '/': { file: join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(publicDir, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: join(publicDir, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/livekit-client.esm.mjs': {
    file: join(livekitClientDir, 'livekit-client.esm.mjs'),
    type: 'text/javascript; charset=utf-8',
  },
};

/**
 * The page loads only its own files and talks only to this server and the LiveKit server: its
 * signalling WebSocket and the HTTP requests livekit-client makes to the same host (validation,
 * LiveKit Cloud's region list).
 */
function pageHeaders(livekitUrl: string): Record<string, string> {
  const ws = new URL(clientUrl(livekitUrl));
  const http = `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}`;
  return {
    'Content-Security-Policy': `default-src 'self'; connect-src 'self' ${ws.origin} ${http}; media-src 'self' blob: mediastream:; img-src 'self' data:`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

export type RequestLog = (line: string) => void;

export type WebServerOptions = TokenEndpointOptions & {
  /** Stand-ins and simulated speech the page must name; none when unset. */
  setup?: PageSetup;
};

export function createWebServer(opts: WebServerOptions, log: RequestLog): Server {
  return createServer((req, res) => {
    handle(req, res, opts, log).catch((err: unknown) => {
      log(`web: ${req.method} ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: WebServerOptions, log: RequestLog) {
  const path = new URL(req.url ?? '/', 'http://page').pathname;
  if (path === '/api/setup' && req.method === 'GET') {
    // Nothing secret: which services are stand-ins, and what the Deepgram stand-in will "hear".
    const setup = opts.setup ?? { standIns: [], simulatedSpeech: [] };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
    res.end(JSON.stringify({ stand_ins: setup.standIns, simulated_speech: setup.simulatedSpeech }));
    return;
  }
  if (path === '/api/token') {
    const declared = Number(req.headers['content-length'] ?? 0);
    // Refused before reading: an oversized body is never buffered.
    const body = declared > maxBodyBytes ? Buffer.alloc(maxBodyBytes + 1) : await readBody(req);
    const answer = await answerTokenRequest(
      {
        method: req.method ?? '',
        body,
        ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
        ...(req.headers['content-type'] !== undefined ? { contentType: req.headers['content-type'] } : {}),
      },
      opts,
    );
    // The reason or the room and identity; never the body, the headers or the token.
    const what = answer.issued
      ? `room "${answer.issued.room}", identity "${answer.issued.identity}"`
      : answer.body.error;
    log(`web: POST /api/token ${answer.status} ${what}`);
    // An oversized body is left unread: closing the connection keeps Node from draining it.
    const close = answer.status === 413 ? { Connection: 'close' } : {};
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers, ...close });
    res.end(JSON.stringify(answer.body));
    return;
  }
  const entry = files[path];
  if (entry === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(entry === undefined ? 404 : 405, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(entry === undefined ? 'not found\n' : 'use GET\n');
    return;
  }
  const content = await readFile(entry.file);
  res.writeHead(200, { 'Content-Type': entry.type, 'Cache-Control': 'no-cache', ...pageHeaders(opts.livekitUrl) });
  res.end(req.method === 'HEAD' ? undefined : content);
}

/**
 * Reads at most maxBodyBytes + 1 bytes: enough to tell that a body is too large. Past that it stops
 * reading (the answer then closes the connection) rather than destroying the request, which would
 * take the 413 answer down with it.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.off('data', onData).pause();
        resolve(Buffer.concat(chunks).subarray(0, maxBodyBytes + 1));
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
