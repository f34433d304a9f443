/**
 * The end-of-turn model runs with nothing downloaded: pinned to the local model even where the
 * framework would pick the cloud one (dev mode, LiveKit credentials set), predicting on a real
 * recording inside a network namespace that has no network, without Node making a single
 * network call and without writing a model cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../bench/project-root.ts';

/** `unshare -n` gives the child a network namespace with nothing in it (needs root or user namespaces). */
function isolated(): boolean {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const home = mkdtempSync(join(tmpdir(), 'eot-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the local end-of-turn model', () => {
  it('predicts offline, pinned to the local model, and downloads nothing', () => {
    const child = [process.execPath, join(projectRoot, 'test/helpers/eot-offline.ts')];
    const noNetwork = isolated();
    const [cmd, ...args] = noNetwork ? ['unshare', '-rn', ...child] : child;
    const r = spawnSync(cmd as string, args, {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        HOME: home,
        XDG_CACHE_HOME: join(home, '.cache'),
        // What makes an unpinned detector choose LiveKit's cloud model.
        LIVEKIT_DEV_MODE: '1',
        LIVEKIT_INFERENCE_URL: 'https://agent-gateway.livekit.cloud/v1',
        LIVEKIT_API_KEY: 'key',
        LIVEKIT_API_SECRET: 'secret-secret-secret-secret-secret',
      },
    });
    expect(r.status, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      model: string;
      transport: string;
      probability: number;
      attempts: string[];
    };
    expect(seen.model).toBe('turn-detector-v1-mini');
    expect(seen.transport).toBe('LocalTransport');
    // A real prediction: without a model the detector answers exactly 1 (its default).
    expect(seen.probability).toBeGreaterThan(0);
    expect(seen.probability).toBeLessThan(0.99);
    expect(seen.attempts).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
    if (!noNetwork) console.warn('unshare is not available here: checked without a network namespace');
  });
});
