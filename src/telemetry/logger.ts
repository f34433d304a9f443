/**
 * Structured logging (pino) that can never print a secret. Pino's `redact` covers known field
 * names; the stream scrubber covers everything else, including lines written by the LiveKit
 * framework's own logger and error messages that quote a request, because it masks the secret
 * *values* in whatever reaches stdout or stderr.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACTED = '[redacted]';

const redactPaths = [
  'apiKey',
  'apiSecret',
  'token',
  'authorization',
  'headers.authorization',
  'headers["xi-api-key"]',
  '*.apiKey',
  '*.apiSecret',
  '*.token',
  '*.authorization',
];

/** Replaces every occurrence of the given secret values in a string. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    // Short values would mask ordinary words; real keys are long.
    if (s.length >= 6) out = out.split(s).join(REDACTED);
  }
  return out;
}

const installed = new Set<string>();

/**
 * Wraps process.stdout/stderr so that no line written by this process, by any logger, carries a
 * secret value. Idempotent; more secrets can be added later (job processes learn theirs late).
 */
export function installSecretScrubber(secrets: readonly string[]): void {
  const fresh = secrets.filter((s) => s.length >= 6 && !installed.has(s));
  if (fresh.length === 0) return;
  const first = installed.size === 0;
  for (const s of fresh) installed.add(s);
  if (!first) return;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = (chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
      return text === null ? write(chunk, ...rest) : write(scrub(text, [...installed]), ...rest);
    };
  }
}

export function createLogger(opts: { level: string; name?: string; secrets?: readonly string[] }): Logger {
  if (opts.secrets) installSecretScrubber(opts.secrets);
  return pino(
    {
      level: opts.level,
      ...(opts.name ? { name: opts.name } : {}),
      redact: { paths: redactPaths, censor: REDACTED },
      base: { pid: process.pid },
    },
    // process.stdout, not a direct fd destination, so that the scrubber sees every line.
    process.stdout,
  );
}
