/**
 * The HTTP side of `npm run web` on 127.0.0.1: the fixed routes, the vendored livekit-client
 * bundle, an oversized body refused from its Content-Length, and a log line per token request
 * that carries neither the token nor the secret.
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebServer } from '../../src/web/server.ts';
import { maxBodyBytes } from '../../src/web/token-endpoint.ts';

const apiSecret = 'devsecret_change_me_to_32_chars_or_more';
const log: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createWebServer({ livekitUrl: 'ws://127.0.0.1:7880', apiKey: 'devkey', apiSecret }, (l) => log.push(l));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('npm run web over HTTP', () => {
  it('serves the page with a content security policy, its script and the pinned livekit-client bundle', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; connect-src 'self' ws://127.0.0.1:7880 http://127.0.0.1:7880; media-src 'self' blob: mediastream:; img-src 'self' data:",
    );
    expect(await page.text()).toContain('/app.js');
    const app = await fetch(`${base}/app.js`);
    expect(await app.text()).toContain('/vendor/livekit-client.esm.mjs');
    const bundle = await fetch(`${base}/vendor/livekit-client.esm.mjs`);
    expect(bundle.status).toBe(200);
    expect(await bundle.text()).toContain('class TokenSourceEndpoint');
  });

  it('tells the page which services are stand-ins and what simulated recognition will hear', async () => {
    // This server was given no setup: the page names no stand-in.
    expect(await (await fetch(`${base}/api/setup`)).json()).toEqual({ stand_ins: [], simulated_speech: [] });
    const local = createWebServer(
      {
        livekitUrl: 'ws://127.0.0.1:7880',
        apiKey: 'devkey',
        apiSecret,
        setup: { standIns: ['deepgram', 'letta'], simulatedSpeech: ['Hello.', 'Bye.'] },
      },
      () => undefined,
    );
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/api/setup`);
      expect(await res.json()).toEqual({ stand_ins: ['deepgram', 'letta'], simulated_speech: ['Hello.', 'Bye.'] });
    } finally {
      local.closeAllConnections();
      await new Promise((resolve) => local.close(resolve));
    }
  });

  it('serves nothing outside its fixed routes', async () => {
    for (const path of ['/package.json', '/../package.json', '/public/index.html', '/%2e%2e/.env']) {
      expect((await fetch(`${base}${path}`)).status).toBe(404);
    }
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('issues a token over HTTP and logs the room and identity only', async () => {
    const res = await fetch(`${base}/api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ room_name: 'r1', participant_identity: 'alice' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { participant_token: string };
    const line = log.find((l) => l.includes('/api/token 201'));
    expect(line).toContain('room "r1", identity "alice"');
    expect(log.join('\n')).not.toContain(body.participant_token);
    expect(log.join('\n')).not.toContain(apiSecret);
  });

  it('refuses an oversized body from its Content-Length, before reading it', async () => {
    const res = await fetch(`${base}/api/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: 'x'.repeat(maxBodyBytes * 4),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than/);
  });

  it('refuses an oversized chunked body (no Content-Length) once it passes the limit, and still answers', async () => {
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/token',
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // Written in chunks with no length declared: the limit is found while reading.
      for (let i = 0; i < 8; i++) req.write('x'.repeat(4096));
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/larger than/);
  });

  it('answers a GET on the endpoint with 405 and Allow: POST', async () => {
    const res = await fetch(`${base}/api/token`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});
