/**
 * Run by test/voice/end-of-turn.test.ts in a child process (inside a network namespace with no
 * network when the machine allows it): builds the worker's turn detector, runs one prediction
 * through it on a real recording, and prints what it saw as one JSON line, including every
 * network call Node was asked to make.
 */
import dns from 'node:dns';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { initializeLogger } from '@livekit/agents';
import { concatSamples, frames, readWav, silence, speechFixture } from '../../bench/harness/speech.ts';
import { inProcessEotExecutor, localTurnDetector } from '../../src/voice/end-of-turn.ts';

const attempts: string[] = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  attempts.push(`connect ${JSON.stringify(args[0])}`);
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = ((host: string, ...rest: unknown[]) => {
  attempts.push(`dns ${host}`);
  return (lookup as (...a: unknown[]) => void)(host, ...rest);
}) as typeof dns.lookup;
const fetch = globalThis.fetch;
globalThis.fetch = (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  attempts.push(`fetch ${String(input)}`);
  return fetch(input, init);
};

initializeLogger({ pretty: false, level: 'silent' });
const detector = localTurnDetector(inProcessEotExecutor());
const stream = detector.stream();
const hello = speechFixture('hello.wav');
const { samples, sampleRate } = readWav(hello.path);
// The caller's last words, then 300 ms of silence: the moment the framework asks the model.
const heard = concatSamples(samples.subarray(0, (hello.speechEndMs * sampleRate) / 1000), silence(300, sampleRate));
for (const frame of frames(heard, sampleRate)) stream.pushAudio(frame);
await sleep(200);
const prediction = await stream.predict().await;
process.stdout.write(
  `${JSON.stringify({
    model: detector.model,
    transport: (stream as unknown as { transport: object }).transport.constructor.name,
    probability: prediction.endOfTurnProbability,
    attempts,
  })}\n`,
);
await stream.aclose();
process.exit(0);
