/** When the agent's audio counts as heard: one threshold for the room caller and the simulated speaker alike. */

/** Peak level (of 32767, about -30 dBFS) above which a frame of the agent's audio counts as sound. */
export const audiblePeak = 1000;

/** Index of the first sample at or above the threshold, or -1 when the frame is silence. */
export function firstAudibleSample(samples: Int16Array): number {
  return samples.findIndex((v) => v >= audiblePeak || v <= -audiblePeak);
}

export function isAudible(samples: Int16Array): boolean {
  return firstAudibleSample(samples) >= 0;
}

/**
 * Ms from a frame's start to its first audible sample (null for silence): a frame plays from
 * its start, and a listener hears the reply at that sample, not at the frame's start.
 */
export function audibleOffsetMs(samples: Int16Array, sampleRate: number, channels = 1): number | null {
  const i = firstAudibleSample(samples);
  return i < 0 ? null : (Math.floor(i / channels) / sampleRate) * 1000;
}
