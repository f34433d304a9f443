/**
 * The stand-ins' one entry: local servers that speak the wire protocols of OpenAI, Deepgram,
 * ElevenLabs and Letta Cloud, with latency profiles. The bench, the tests, `npm run chat -- --sim`
 * and `npm run local` reach them only through this file. They import no product code: they speak
 * protocols, nothing else.
 */
export { serveFromCommandLine, type CommonFlags } from './cli.ts';
export {
  startDeepgramStandIn,
  type DeepgramStandIn,
  type DeepgramStandInOptions,
  type ScriptedTranscript,
} from './deepgram.ts';
export {
  speechMs,
  startElevenLabsStandIn,
  type ElevenLabsStandIn,
  type ElevenLabsStandInOptions,
} from './elevenlabs.ts';
export {
  lettaRoutes,
  startLettaStandIn,
  type Fault,
  type FaultMatch,
  type LettaRequestLogEntry,
  type LettaStandIn,
  type LettaStandInOptions,
} from './letta.ts';
export {
  defaultResponder,
  startOpenAIStandIn,
  tokenize,
  type ChatRequestBody,
  type OpenAIRequestLogEntry,
  type OpenAIStandIn,
  type OpenAIStandInOptions,
  type Responder,
} from './openai.ts';
export { getProfile, profiles, type Dist, type LatencyProfile, type ProfileName } from './profile.ts';
export { listen, nowMs, sleep, type RequestLogEntry, type StandIn } from './server.ts';
