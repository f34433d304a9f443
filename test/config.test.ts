import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { settings } from '../src/settings.ts';
import { defaultSpeechSettings, turnTimingDefaults } from '../src/voice/speech-settings.ts';
import { cleanEnv, projectRoot, runNode } from './helpers/run.ts';

const workerEnv = {
  LIVEKIT_URL: 'ws://127.0.0.1:7880',
  LIVEKIT_API_KEY: 'devkey',
  LIVEKIT_API_SECRET: 'secret-livekit-0123456789abcdef0123456789',
  OPENAI_API_KEY: 'sk-openai-secret-0123456789',
  DEEPGRAM_API_KEY: 'dg-secret-0123456789',
  ELEVEN_API_KEY: 'el-secret-0123456789',
};

function problemsOf(purpose: 'worker' | 'chat', env: NodeJS.ProcessEnv) {
  try {
    loadConfig(purpose, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('reports every problem at once, by name, with how to fix it', () => {
    const problems = problemsOf('worker', {
      OPENAI_BASE_URL: 'not a url',
      LETTA_WRITE_MODE: 'sometimes',
      LETTA_MEMORY_BUDGET_MS: '-5',
      LETTA_AGENT_ID: 'agent-123',
    });
    const names = problems.map((p) => p.name).sort();
    expect(names).toEqual(
      [
        'DEEPGRAM_API_KEY',
        'ELEVEN_API_KEY',
        'LETTA_AGENT_ID',
        'LETTA_MEMORY_BUDGET_MS',
        'LETTA_WRITE_MODE',
        'LIVEKIT_API_KEY',
        'LIVEKIT_API_SECRET',
        'LIVEKIT_URL',
        'OPENAI_API_KEY',
        'OPENAI_BASE_URL',
      ].sort(),
    );
    for (const p of problems) expect(p.fix.length).toBeGreaterThan(5);
    expect(problems.find((p) => p.name === 'OPENAI_BASE_URL')?.problem).toMatch(/URL/);
  });

  it('never quotes a secret value in a problem', () => {
    const problems = problemsOf('worker', { ...workerEnv, OPENAI_API_KEY: '   ', LIVEKIT_URL: 'ftp://x' });
    expect(JSON.stringify(problems)).not.toContain('secret');
  });

  it('needs no keys for the chat CLI, and applies defaults', () => {
    const c = loadConfig('chat', {});
    expect(c.openai.model).toBe('gpt-4.1-mini');
    expect(c.openai.baseURL).toBe('https://api.openai.com/v1');
    expect(c.letta.baseURL).toBeUndefined();
    expect(c.letta.memoryBudgetMs).toBe(1500);
  });

  it('treats blank values as unset and collects the secrets to redact', () => {
    const c = loadConfig('worker', { ...workerEnv, LETTA_API_KEY: 'letta-secret-123456', LIVEKIT_AGENT_NAME: '' });
    expect(c.livekit.agentName).toBeUndefined();
    expect(c.letta.baseURL).toBe('https://api.letta.com');
    expect(c.secrets.sort()).toEqual(
      [
        workerEnv.LIVEKIT_API_SECRET,
        workerEnv.OPENAI_API_KEY,
        workerEnv.DEEPGRAM_API_KEY,
        workerEnv.ELEVEN_API_KEY,
        'letta-secret-123456',
      ].sort(),
    );
  });

  it('takes a Redis journal URL, keeps it and its password secret, and refuses other schemes', () => {
    const url = 'rediss://writer:p%40ss-0123456789@redis.example:6380/2';
    const c = loadConfig('worker', { ...workerEnv, MEMORY_JOURNAL_URL: url });
    expect(c.letta.journalUrl).toBe(url);
    expect(c.letta.claimIdleMs).toBe(30_000);
    expect(c.secrets).toEqual(expect.arrayContaining([url, 'p@ss-0123456789']));
    const bad = problemsOf('worker', {
      ...workerEnv,
      MEMORY_JOURNAL_URL: 'http://redis.example',
      MEMORY_JOURNAL_CLAIM_IDLE_MS: '10',
    });
    expect(bad.map((p) => p.name).sort()).toEqual(['MEMORY_JOURNAL_CLAIM_IDLE_MS', 'MEMORY_JOURNAL_URL']);
    expect(JSON.stringify(bad)).not.toContain('redis.example');
  });

  it('runs the measured default speech settings unless told otherwise', () => {
    expect(loadConfig('worker', workerEnv).speech).toEqual(defaultSpeechSettings);
  });

  it('takes each speech lever from the environment; timings left unset follow the turn detector', () => {
    const speech = loadConfig('worker', {
      ...workerEnv,
      TTS_CHUNKING: 'sentence',
      TURN_DETECTOR: 'eot',
      ENDPOINTING_MAX_DELAY_MS: '4000',
      PREEMPTIVE_TTS: 'false',
      DEEPGRAM_ENDPOINTING_MS: '300',
      ROOM_INPUT_SAMPLE_RATE: '48000',
      ROOM_INPUT_FRAME_MS: '30',
    }).speech;
    expect(speech).toEqual({
      ttsChunking: 'sentence',
      turnDetector: 'eot',
      vadMinSilenceMs: turnTimingDefaults.eot.vadMinSilenceMs,
      endpointingMinDelayMs: turnTimingDefaults.eot.endpointingMinDelayMs,
      endpointingMaxDelayMs: 4000,
      preemptiveTts: false,
      deepgramEndpointingMs: 300,
      roomInputSampleRate: 48000,
      roomInputFrameMs: 30,
    });
  });

  it('refuses speech timings the turn detector cannot work with', () => {
    const problems = problemsOf('worker', {
      ...workerEnv,
      TURN_DETECTOR: 'eot',
      VAD_MIN_SILENCE_MS: '100',
      ENDPOINTING_MIN_DELAY_MS: '800',
      ENDPOINTING_MAX_DELAY_MS: '400',
      TTS_CHUNKING: 'words',
      ROOM_INPUT_SAMPLE_RATE: '22050',
      ROOM_INPUT_FRAME_MS: '25',
    });
    expect(problems.map((p) => p.name).sort()).toEqual([
      'ENDPOINTING_MAX_DELAY_MS',
      'ROOM_INPUT_FRAME_MS',
      'ROOM_INPUT_SAMPLE_RATE',
      'TTS_CHUNKING',
      'VAD_MIN_SILENCE_MS',
    ]);
  });

  it('takes the number of warm job processes, and refuses one the framework would ignore', () => {
    expect(loadConfig('worker', { ...workerEnv, LIVEKIT_NUM_IDLE_PROCESSES: '10' }).livekit.numIdleProcesses).toBe(10);
    expect(loadConfig('worker', workerEnv).livekit.numIdleProcesses).toBeUndefined();
    // 0 would silently mean the framework's default; a fraction is no process count.
    for (const bad of ['0', '2.5', 'many']) {
      expect(problemsOf('worker', { ...workerEnv, LIVEKIT_NUM_IDLE_PROCESSES: bad }).map((p) => p.name)).toEqual([
        'LIVEKIT_NUM_IDLE_PROCESSES',
      ]);
    }
  });

  it('documents every setting in .env.example, and nothing else', () => {
    const example = readFileSync(join(projectRoot, '.env.example'), 'utf8');
    const names = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual(Object.keys(settings).sort());
  });

  it('lists every setting in the configuration table of docs/operations.md', () => {
    const page = readFileSync(join(projectRoot, 'docs/operations.md'), 'utf8');
    const table = page.slice(page.indexOf('<!-- config-table:start -->'), page.indexOf('<!-- config-table:end -->'));
    const names = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual(Object.keys(settings).sort());
  });

  it('npm run dev without configuration prints one message and exits 2, no stack trace', async () => {
    const r = await runNode(['src/main.ts', 'dev'], { env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Configuration has 6 problems');
    for (const name of ['LIVEKIT_URL', 'OPENAI_API_KEY', 'DEEPGRAM_API_KEY', 'ELEVEN_API_KEY']) {
      expect(r.stderr).toContain(name);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
