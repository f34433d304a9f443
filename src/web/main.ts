/**
 * `npm run web`: the join page and its token endpoint on WEB_HOST:WEB_PORT. Needs only the LiveKit
 * settings; off loopback, WEB_AUTH_TOKEN too (checked by the configuration, so it never starts
 * without it).
 */
import type { AddressInfo } from 'node:net';
import { loadConfigOrExit, requireSetting } from '../config.ts';
import { scrub } from '../telemetry/logger.ts';
import { createWebServer } from './server.ts';

const config = loadConfigOrExit('web');
const log = (line: string) => process.stdout.write(`${scrub(line, config.secrets)}\n`);
const server = createWebServer(
  {
    livekitUrl: requireSetting(config.livekit.url, 'LIVEKIT_URL'),
    apiKey: requireSetting(config.livekit.apiKey, 'LIVEKIT_API_KEY'),
    apiSecret: requireSetting(config.livekit.apiSecret, 'LIVEKIT_API_SECRET'),
    ...(config.livekit.agentName !== undefined ? { agentName: config.livekit.agentName } : {}),
    ...(config.web.authToken !== undefined ? { authToken: config.web.authToken } : {}),
    setup: config.web.setup,
  },
  log,
);
server.on('error', (err) => {
  process.stderr.write(`web: cannot listen on ${config.web.host}:${config.web.port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(config.web.port, config.web.host, () => {
  const { port } = server.address() as AddressInfo;
  const host = config.web.host.includes(':') ? `[${config.web.host}]` : config.web.host;
  log(`web: join page at http://${host}:${port}/`);
  if (config.web.authToken !== undefined) log('web: token requests need Authorization: Bearer <WEB_AUTH_TOKEN>');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
