import { describe, expect, it } from 'vitest';
import { youngGenerationForChildren } from '../../src/worker/young-generation.ts';

describe('the job processes’ young generation', () => {
  it('caps the semi-space through NODE_OPTIONS, keeping what was there', () => {
    const env: NodeJS.ProcessEnv = { NODE_OPTIONS: '--enable-source-maps' };
    youngGenerationForChildren(1, env);
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=1');
    const bare: NodeJS.ProcessEnv = {};
    youngGenerationForChildren(2, bare);
    expect(bare.NODE_OPTIONS).toBe('--max-semi-space-size=2');
  });

  it('leaves V8’s default with 0, and an explicit flag in NODE_OPTIONS alone', () => {
    const off: NodeJS.ProcessEnv = {};
    youngGenerationForChildren(0, off);
    expect(off.NODE_OPTIONS).toBeUndefined();
    const given: NodeJS.ProcessEnv = { NODE_OPTIONS: '--max-semi-space-size=8' };
    youngGenerationForChildren(1, given);
    expect(given.NODE_OPTIONS).toBe('--max-semi-space-size=8');
  });
});
