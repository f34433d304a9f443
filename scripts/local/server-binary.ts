/** LiveKit's server binary for `npm run local`: given, found in the cache, or built once with Go. */
import { spawnSync } from 'node:child_process';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { fail, rel, status } from './console.ts';

export function serverBinary(root: string, logFile: (name: string) => { path: string; fd: number }): string {
  const given = process.env.LIVEKIT_SERVER_BIN?.trim();
  if (given) return given;
  const script = join(root, 'scripts/livekit-server.sh');
  const found = spawnSync('bash', [script, '--no-build'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n').at(-1);
  if (found.status === 0 && path) return path;
  if (spawnSync('go', ['version']).status !== 0) {
    fail(
      'livekit',
      'livekit-server 1.13.5 is not on PATH or in .cache/livekit-server/, and Go is not installed to build it. ' +
        'Install Go (https://go.dev/dl/, or your package manager: apt-get install golang-go, brew install go) and run ' +
        'npm run local again (the first build takes a few minutes), or set LIVEKIT_SERVER_BIN to a livekit-server 1.13.5. ' +
        'LiveKit Cloud needs no local server: see docs/deploy.md#livekit-cloud',
    );
  }
  const { path: buildLog, fd } = logFile('livekit-build');
  status('livekit', `building livekit-server 1.13.5 with Go, first time only (a few minutes): ${rel(buildLog)}`);
  const built = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  const out = built.stdout.trim().split('\n').at(-1);
  if (built.status !== 0 || !out) fail('livekit', `the build failed: see ${rel(buildLog)}`);
  return out!;
}
