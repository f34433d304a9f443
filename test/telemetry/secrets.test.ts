import { describe, expect, it } from 'vitest';
import { cleanEnv, runNode } from '../helpers/run.ts';

const secrets = {
  LIVEKIT_API_SECRET: 'lk-secret-Zq8Kx0Vn4Rt7Yp2Lm9Wc',
  OPENAI_API_KEY: 'sk-test-Aa11Bb22Cc33Dd44Ee55',
  DEEPGRAM_API_KEY: 'dg-test-Ff66Gg77Hh88Ii99',
  ELEVEN_API_KEY: 'el-test-Jj00Kk11Ll22Mm33',
  LETTA_API_KEY: 'letta-test-Nn44Oo55Pp66',
};

function expectNoSecret(output: string) {
  for (const [name, value] of Object.entries(secrets)) expect(output, name).not.toContain(value);
}

describe('secrets never reach a log', () => {
  it('are masked in our log lines: fields, messages, errors and raw writes', async () => {
    const script = `
      import { loadConfig } from './src/config.ts';
      import { createLogger } from './src/telemetry/logger.ts';
      const config = loadConfig('worker');
      const log = createLogger({ level: 'debug', secrets: config.secrets });
      log.info({ apiKey: process.env.OPENAI_API_KEY, headers: { authorization: 'Bearer ' + process.env.LETTA_API_KEY } }, 'fields');
      log.warn('message quoting ' + process.env.DEEPGRAM_API_KEY);
      log.error({ err: new Error('401 for key ' + process.env.ELEVEN_API_KEY) }, 'error');
      console.log('plain console line with', process.env.LIVEKIT_API_SECRET);
      console.error('stderr line with', process.env.OPENAI_API_KEY);
    `;
    const r = await runNode(['--input-type=module', '-e', script], {
      env: cleanEnv({ LIVEKIT_URL: 'ws://127.0.0.1:1', LIVEKIT_API_KEY: 'devkey', ...secrets }),
    });
    expect(r.code).toBe(0);
    const out = r.stdout + r.stderr;
    expectNoSecret(out);
    expect(out).toContain('message quoting [redacted]');
    expect(out).toContain('plain console line with [redacted]');
    expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it('do not appear in the running worker’s output', async () => {
    // Nothing listens on port 9; the worker logs its connection attempts and retries. Once it has
    // failed to connect and its job processes have started, every kind of line it writes has been
    // written: it is stopped then (at the latest after 6 s), and logs its shutdown too.
    const r = await runNode(['src/main.ts', 'start'], {
      env: cleanEnv({ LIVEKIT_URL: 'ws://127.0.0.1:9', LIVEKIT_API_KEY: 'devkey', LOG_LEVEL: 'debug', ...secrets }),
      stopWhen: (out) => out.includes('retrying in') && out.includes('job runner initialized'),
      killAfterMs: 6000,
      timeoutMs: 20_000,
    });
    const out = r.stdout + r.stderr;
    expect(out.length).toBeGreaterThan(0);
    expectNoSecret(out);
  });
});
