/**
 * Latency profiles for the stand-ins and the bench. A profile is data: each stage is a
 * distribution given by its median and p95 (a log-normal fit), sampled with a seeded RNG so that
 * a run can be repeated exactly. `p95Ms === medianMs` makes a stage constant (tests use that).
 */

export interface Dist {
  medianMs: number;
  p95Ms: number;
}

export interface LatencyProfile {
  name: string;
  description: string;
  /** Where the figures come from. */
  sources: string[];
  openai: {
    /** Request received → first content delta sent. */
    ttft: Dist;
    /** Gap between consecutive content deltas. */
    tokenInterval: Dist;
  };
  deepgram: {
    /** Trailing silence observed in the audio → final `Results` with `speech_final`. */
    endpointing: Dist;
    /** Gap between interim `Results` while speech continues. */
    interimInterval: Dist;
  };
  elevenlabs: {
    /** First text of a context received → first audio chunk sent. */
    ttfb: Dist;
    /** Seconds of audio produced per second of wall clock once audio flows. */
    realtimeFactor: number;
  };
  letta: {
    /** Agent loop before the model runs: state load, memory recompilation, run bookkeeping. */
    agentLoop: Dist;
    /** Cheap reads (blocks, agent lookups). */
    read: Dist;
  };
}

const z: Dist = { medianMs: 0, p95Ms: 0 };

export const profiles = {
  /** Near-zero latency: unit tests that assert order, not time. */
  instant: {
    name: 'instant',
    description: 'No artificial latency; for tests that check behaviour, not timing.',
    sources: ['none: synthetic'],
    openai: { ttft: z, tokenInterval: z },
    deepgram: { endpointing: { medianMs: 10, p95Ms: 10 }, interimInterval: { medianMs: 100, p95Ms: 100 } },
    elevenlabs: { ttfb: z, realtimeFactor: 50 },
    letta: { agentLoop: z, read: z },
  },
  /** The field measurements this project started from (see README, "Why"). */
  seed: {
    name: 'seed',
    description:
      'Field measurements this project started from: STT ≈300 ms, OpenAI first token ≈200 ms and ≈1.5 s complete, Letta-routed reply ≈5 s with buffered chunks, TTS ≈500 ms.',
    sources: [
      'project seed measurements: Letta-routed voice turns, TTFT 4.5-5.3 s, all chunks within 38 ms of the first',
      'project seed measurements: direct OpenAI streaming, first token ≈200 ms, complete ≈1.5 s',
    ],
    openai: { ttft: { medianMs: 200, p95Ms: 350 }, tokenInterval: { medianMs: 30, p95Ms: 60 } },
    deepgram: { endpointing: { medianMs: 300, p95Ms: 400 }, interimInterval: { medianMs: 250, p95Ms: 300 } },
    elevenlabs: { ttfb: { medianMs: 500, p95Ms: 700 }, realtimeFactor: 4 },
    letta: { agentLoop: { medianMs: 3300, p95Ms: 4100 }, read: { medianMs: 80, p95Ms: 150 } },
  },
  /** Medians and p95s of public measurements. */
  published: {
    name: 'published',
    description:
      'Public measurements: Deepgram nova-3 final transcript 247/298 ms, gpt-4o-mini first answer token 553/1947 ms, ElevenLabs Flash first byte ≈190 ms median.',
    sources: [
      'Deepgram nova-3 streaming final-transcript latency, median 247 ms / p95 298 ms (public STT latency benchmark)',
      'gpt-4o-mini time to first answer token, median 553 ms / p95 1947 ms (public LLM latency measurements)',
      'ElevenLabs Flash v2.5 time to first byte ≈190 ms median (public TTS latency measurements); p95 assumed 1.5× median',
      'Letta agent loop: project seed measurements (no public figure)',
    ],
    openai: { ttft: { medianMs: 553, p95Ms: 1947 }, tokenInterval: { medianMs: 25, p95Ms: 50 } },
    deepgram: { endpointing: { medianMs: 247, p95Ms: 298 }, interimInterval: { medianMs: 250, p95Ms: 300 } },
    elevenlabs: { ttfb: { medianMs: 190, p95Ms: 285 }, realtimeFactor: 4 },
    letta: { agentLoop: { medianMs: 3300, p95Ms: 4100 }, read: { medianMs: 80, p95Ms: 150 } },
  },
} satisfies Record<string, LatencyProfile>;

export type ProfileName = keyof typeof profiles;

export function getProfile(name: string): LatencyProfile {
  const p = (profiles as Record<string, LatencyProfile>)[name];
  if (!p) throw new Error(`unknown latency profile "${name}"; known: ${Object.keys(profiles).join(', ')}`);
  return p;
}

/** mulberry32: small, fast and good enough to make latency draws repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Z95 = 1.6448536269514722;

/** Draws from a log-normal distribution with the given median and p95 (constant if equal). */
export function sampler(rand: () => number): (d: Dist) => number {
  return (d) => {
    if (d.medianMs <= 0) return 0;
    if (d.p95Ms <= d.medianMs) return d.medianMs;
    const sigma = Math.log(d.p95Ms / d.medianMs) / Z95;
    // Box-Muller; 1 - rand() keeps the log argument away from zero.
    const u1 = 1 - rand();
    const u2 = rand();
    const n = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return d.medianMs * Math.exp(sigma * n);
  };
}
