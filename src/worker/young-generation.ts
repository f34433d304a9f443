/**
 * V8's young generation in the worker's job processes, capped. A talking call allocates a new
 * buffer for every 10-30 ms of audio at several stages; under that rate V8 grows each semi-space of
 * the young generation towards its 16 MB default, and a job process keeps that memory resident for
 * the rest of its life. With 1 MB semi-spaces a call's job process peaked at 233 MB instead of 291
 * for the same CPU (bench/README.md, calls arriving together): scavenges of a small young
 * generation are as cheap as the audio's short-lived buffers make them. Job processes are forked
 * from the worker and inherit its environment, so NODE_OPTIONS set here reaches them all (and the
 * inference process) and not the worker's own, already started, process.
 */
const flag = '--max-semi-space-size';

/** `mb` 0 leaves V8's default; a NODE_OPTIONS that already names the flag wins. */
export function youngGenerationForChildren(mb: number, env: NodeJS.ProcessEnv = process.env): void {
  if (mb <= 0 || env.NODE_OPTIONS?.includes(flag)) return;
  env.NODE_OPTIONS = [env.NODE_OPTIONS, `${flag}=${mb}`].filter(Boolean).join(' ');
}
