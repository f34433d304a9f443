/** Where the room tier's peers live: set up by run.ts, read by the tests. */

/** The veth pair inside the tier's own network namespace: the server's end and the other end. */
export const netnsAddresses = { server: '10.77.0.1', peer: '10.77.0.2' } as const;

/**
 * The address the server advertises for media and listens on for signalling. run.ts sets it; a
 * test file started some other way (plain `vitest`) fails here with the way to run it.
 */
export function nodeIp(): string {
  const ip = process.env.ROOMS_NODE_IP;
  if (!ip) throw new Error('room tests run through `npm run test:rooms` (it sets up their network)');
  return ip;
}
