/** Running a stand-in from the command line: the flags they share, a JSON line with the URL, clean stop. */
import { parseArgs } from 'node:util';
import { type LatencyProfile, getProfile } from './profile.ts';
import type { StandIn } from './server.ts';

export interface CommonFlags {
  profile: LatencyProfile;
  port?: number;
  seed?: number;
  apiKey?: string;
}

/**
 * Parses `--port --profile (default published) --seed --api-key` plus the service's own string
 * flags, starts the stand-in, prints `{"service", "url"}` and stops on SIGINT/SIGTERM.
 */
export async function serveFromCommandLine<E extends string>(
  service: string,
  extraFlags: readonly E[],
  start: (common: CommonFlags, extra: Partial<Record<E, string>>) => Promise<StandIn>,
): Promise<void> {
  const options: Record<string, { type: 'string' }> = {};
  for (const name of ['port', 'profile', 'seed', 'api-key', ...extraFlags]) options[name] = { type: 'string' };
  const { values } = parseArgs({ options }) as { values: Record<string, string | undefined> };
  const common: CommonFlags = {
    profile: getProfile(values.profile ?? 'published'),
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    ...(values['api-key'] !== undefined ? { apiKey: values['api-key'] } : {}),
  };
  const extra: Partial<Record<E, string>> = {};
  for (const name of extraFlags) if (values[name] !== undefined) extra[name] = values[name];
  const standIn = await start(common, extra);
  console.log(JSON.stringify({ service, url: standIn.url }));
  const stop = (): void => void standIn.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
