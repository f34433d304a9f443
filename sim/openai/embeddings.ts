/**
 * `POST /v1/embeddings` as OpenAI serves it: float or base64 (little-endian float32) vectors, one
 * per input, in input order, with usage. Vectors are deterministic and meaningful enough for a
 * search: each word is hashed to a few signed dimensions, so texts that share words are close.
 * Letta asks for base64 and searches passages by these vectors.
 */
import { createHash } from 'node:crypto';

/** Embedding models and their native dimensions, as OpenAI lists them. */
export const embeddingModels: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

export interface EmbeddingError {
  status: number;
  message: string;
  param?: string;
  code?: string | null;
}

const WORDS = /[\p{L}\p{N}']+/gu;

/** A unit vector of `dims` from the words of `text`; the same text always gives the same vector. */
export function embed(text: string, dims: number): Float32Array {
  const v = new Float32Array(dims);
  for (const [word] of text.toLowerCase().matchAll(WORDS)) {
    const h = createHash('sha256').update(word).digest();
    // Four signed dimensions a word: few collisions, and shared words still dominate the cosine.
    for (let i = 0; i < 4; i++) {
      const at = h.readUInt32LE(i * 4) % dims;
      v[at]! += h[16 + i]! & 1 ? 1 : -1;
    }
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  // No words at all: a fixed direction rather than a zero vector, which has no cosine.
  if (norm === 0) {
    v[0] = 1;
    return v;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dims; i++) v[i]! *= scale;
  return v;
}

function base64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** The reply to an embeddings request body, or the error OpenAI would send for it. */
export function embeddingsReply(body: unknown): { ok: true; payload: unknown } | { ok: false; error: EmbeddingError } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '')
    return { ok: false, error: { status: 400, message: 'you must provide a model parameter' } };
  const native = embeddingModels[b.model];
  if (native === undefined)
    return {
      ok: false,
      error: {
        status: 404,
        message: `The model \`${b.model}\` does not exist or you do not have access to it.`,
        code: 'model_not_found',
      },
    };
  const inputs = typeof b.input === 'string' ? [b.input] : b.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((s) => typeof s === 'string' && s !== ''))
    return {
      ok: false,
      error: {
        status: 400,
        message:
          "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        param: 'input',
      },
    };
  const dims = typeof b.dimensions === 'number' && b.model !== 'text-embedding-ada-002' ? b.dimensions : native;
  if (!Number.isInteger(dims) || dims < 1 || dims > native)
    return {
      ok: false,
      error: {
        status: 400,
        message: `This model does not support specifying dimensions of ${dims}.`,
        param: 'dimensions',
      },
    };
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64')
    return {
      ok: false,
      error: {
        status: 400,
        message: `Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`,
        param: 'encoding_format',
        code: 'invalid_value',
      },
    };
  const tokens = (inputs as string[]).reduce((n, s) => n + Math.max(1, Math.ceil(s.length / 4)), 0);
  return {
    ok: true,
    payload: {
      object: 'list',
      data: (inputs as string[]).map((text, index) => {
        const v = embed(text, dims);
        return { object: 'embedding', index, embedding: format === 'base64' ? base64(v) : Array.from(v) };
      }),
      model: b.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}
