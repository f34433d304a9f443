/** When the agent's audio counts as heard: one threshold for the room caller and the simulated speaker alike. */

/** Peak level (of 32767, about -30 dBFS) above which a frame of the agent's audio counts as sound. */
export const audiblePeak = 1000;

export function isAudible(samples: Int16Array): boolean {
  for (const v of samples) if (v >= audiblePeak || v <= -audiblePeak) return true;
  return false;
}
