/**
 * LiveKit's audio end-of-turn model, run locally. The framework's `inference.TurnDetector` is
 * pinned to `v1-mini`, the model embedded in the `@livekit/local-inference` native package: left
 * unpinned it picks the cloud model in dev or hosted mode, and nothing is ever downloaded for
 * the local one (a test proves it). The model weights are under LiveKit's model licence: use them
 * only with LiveKit Agents.
 *
 * In a worker the framework runs the model once per host, in its shared inference process (loaded
 * when the worker starts, before any call), and the detector reaches it through the job context.
 * Outside a job (the bench, tests) there is no such process, and the detector would silently
 * answer "done" (probability 1) to every question: `inProcessEotExecutor` runs the same model in
 * this process instead.
 */
import { createRequire } from 'node:module';
import { inference, type ipc } from '@livekit/agents';

/** The method id the framework's detector asks its executor for (its runner's id). */
export const eotInferenceMethod = 'lk_eot_audio';

type LocalInference = typeof import('@livekit/local-inference');

/** Loads the native package; throws with the reason when this platform has no binary. */
export function loadLocalInference(): LocalInference {
  return createRequire(import.meta.url)('@livekit/local-inference') as LocalInference;
}

/**
 * An executor that answers the detector's requests in this process. The model loads here, once
 * (~240 ms), not on the first turn.
 */
export function inProcessEotExecutor(): ipc.InferenceExecutor {
  const native = loadLocalInference();
  native.initEot();
  return {
    async doInference(method: string, data: unknown): Promise<unknown> {
      if (method !== eotInferenceMethod) throw new Error(`no local runner for inference method "${method}"`);
      const bytes = Buffer.from((data as { pcm: string }).pcm, 'base64');
      const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2));
      const started = performance.now();
      const probability = await native.predict(pcm);
      return { probability, inferenceDurationMs: performance.now() - started };
    },
  };
}

/** The turn detector pinned to the local model; without an executor it uses the job's. */
export function localTurnDetector(executor?: ipc.InferenceExecutor): inference.TurnDetector {
  return new inference.TurnDetector({ version: 'v1-mini', ...(executor ? { executor } : {}) });
}
