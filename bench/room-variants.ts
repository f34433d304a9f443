/**
 * `--room-variants`: worker settings to compare in one room bench run, each its own worker and
 * its own run of the load levels. A variant is `default` or settings joined by `+`, e.g.
 * `LIVEKIT_NUM_IDLE_PROCESSES=10+NODE_DISABLE_COMPILE_CACHE=1`; variants are separated by commas.
 */
import { settings } from '../src/settings.ts';
import type { RoomVariant } from './room-results.ts';

/** Node's own variables a variant may set besides the project's settings. */
const nodeVariables = ['NODE_DISABLE_COMPILE_CACHE', 'NODE_COMPILE_CACHE'];

export function parseRoomVariants(text: string): RoomVariant[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((name) => {
      if (name === 'default') return { name, env: {} };
      const env: Record<string, string> = {};
      for (const pair of name.split('+')) {
        const eq = pair.indexOf('=');
        const key = pair.slice(0, eq);
        if (eq <= 0 || !(key in settings || nodeVariables.includes(key)))
          throw new Error(
            `--room-variants: "${pair}" is not SETTING=VALUE with a setting of src/settings.ts or ${nodeVariables.join(', ')}`,
          );
        env[key] = pair.slice(eq + 1);
      }
      return { name, env };
    });
}
