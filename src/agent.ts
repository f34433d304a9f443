/**
 * The job entry: one call in one room. Builds the session from its parts and wires the Letta
 * memory implementation into the speech path's memory interface.
 */
// First, so that its clock reads when the module graph has loaded, before the rest is evaluated.
import { StepClock, logCallStarted, logProcessReady } from './telemetry/job-start.ts';
import { type JobContext, type JobProcess, type VAD, defineAgent, type llm, type voice } from '@livekit/agents';
import type { CallLeases } from './calls/call-leases.ts';
import { endWithCaller } from './calls/end-with-caller.ts';
import { callJobs, rescueOf } from './calls/rescue-metadata.ts';
import { holdCallLease } from './calls/hold-call-lease.ts';
import { openCallLeases } from './calls/open-call-leases.ts';
import { type Config, loadConfig, requireSetting as required } from './config.ts';
import { type MemoryService, openMemoryService } from './memory/memory-service.ts';
import { createLogger } from './telemetry/logger.ts';
import { observeMemoryWrites } from './telemetry/memory-metrics.ts';
import { type JobMetrics, startJobMetrics } from './telemetry/worker-metrics.ts';
import { enableTracing, flushTracing } from './telemetry/tracing.ts';
import { logTurnLatency } from './telemetry/turn-latency.ts';
import { publishTurns, turnTopic } from './telemetry/turn-publisher.ts';
import { audioReceiveOf } from './telemetry/audio-receive.ts';
import { memoryTopic, publishMemory } from './telemetry/memory-publisher.ts';
import { noMemory } from './voice/memory-context.ts';
import { QuietWindow, bindQuietWindow } from './voice/quiet-window.ts';
import { answerTextWith, postAgentText } from './voice/text-replies.ts';
import { guardTypedMessages } from './voice/typed-message-guard.ts';
import { createReplyLLM } from './voice/services.ts';
import { loadLocalInference } from './voice/end-of-turn.ts';
import { createVoiceSession, loadVad } from './voice/session-factory.ts';
import { roomOutputOptions } from './voice/room-output.ts';
import { type GreetingAudio, newCallerGreeting } from './voice/greeting-audio.ts';
import { defaultGreeting, rescueGreeting } from './voice/voice-agent.ts';

/** The job module's imports evaluated, in ms since the process started. */
const evaluatedAtMs = performance.now();

interface Prewarmed {
  config: Config;
  vad: VAD;
  llm: llm.LLM;
  quiet: QuietWindow;
  memory: MemoryService | null;
  metrics: JobMetrics;
  leases: CallLeases;
  greeting: GreetingAudio | null;
}

export default defineAgent<Prewarmed>({
  prewarm: async (proc: JobProcess<Prewarmed>) => {
    const clock = new StepClock(evaluatedAtMs);
    clock.mark('untilPrewarmMs');
    const config = loadConfig('worker');
    // The framework opens a job's root span before entry runs: the tracer must exist by now.
    if (config.tracesEndpoint !== undefined) enableTracing(config.tracesEndpoint);
    const logger = createLogger({ level: config.logLevel, name: 'voice-agent', secrets: config.secrets });
    proc.userData.config = config;
    clock.mark('configMs');
    proc.userData.vad = await loadVad(config.speech);
    clock.mark('vadMs');
    // The end-of-turn model itself runs in the framework's shared inference process, loaded once
    // when the worker starts; this only makes a platform without its native binary fail here,
    // loudly, instead of every turn silently counting as finished.
    if (config.speech.turnDetector === 'eot') loadLocalInference();
    const model = createReplyLLM({ ...config.openai, apiKey: required(config.openai.apiKey, 'OPENAI_API_KEY') });
    // Opens DNS, TLS and a keep-alive connection before the first reply needs them.
    model.prewarm();
    proc.userData.llm = model;
    clock.mark('llmMs');
    proc.userData.greeting = newCallerGreeting(config, logger);
    const quiet = new QuietWindow();
    proc.userData.quiet = quiet;
    // Also replays turns a crashed or killed process left unacknowledged in the journal.
    proc.userData.memory = openMemoryService(config, logger, quiet);
    clock.mark('memoryMs');
    proc.userData.metrics = startJobMetrics(config);
    proc.userData.leases = openCallLeases(config, logger);
    if (proc.userData.memory) {
      observeMemoryWrites(proc.userData.memory.writer, { logger });
      proc.userData.metrics.metrics.observeWriter(proc.userData.memory.writer);
    }
    clock.mark('metricsMs');
    logProcessReady(logger, Math.round(evaluatedAtMs), clock);
  },
  entry: async (ctx: JobContext<Prewarmed>) => {
    const { config, vad, llm: model, quiet, memory: service, metrics, leases, greeting } = ctx.proc.userData;
    const logger = createLogger({ level: config.logLevel, name: 'voice-agent', secrets: config.secrets }).child({
      room: ctx.job.room?.name,
      job: ctx.job.id,
    });
    const clock = new StepClock();
    await ctx.connect();
    clock.mark('connectMs');
    const participant = await ctx.waitForParticipant();
    clock.mark('participantMs');
    const rescue = rescueOf(ctx.job.metadata);
    logger.info({ event: 'caller_joined', ...(rescue ? { rescueOf: rescue.rescueOf } : {}) }, 'caller joined');
    const earlierJobs = rescue ? callJobs(rescue) : [];
    const carried =
      rescue?.openTurn && service
        ? await service.carryOver(participant.identity, rescue.rescueOf, rescue.openTurn)
        : undefined;
    // Memory is read while the session connects to its services; the greeting waits for it, within its budget.
    // A rescued call's earlier turns are its own; the cut-off question opens its conversation, so not memory.
    const callerMemory = service?.open(participant.identity, ctx.job.id, {
      earlierSessions: earlierJobs,
      ...(carried !== undefined ? { inConversation: carried } : {}),
    });
    if (callerMemory) void clock.time('memoryReadMs', callerMemory.ready).catch(() => undefined);
    const { session, agent } = createVoiceSession({
      llm: model,
      vad,
      speech: config.speech,
      memory: callerMemory?.context ?? noMemory,
      logger,
      memoryMaxChars: config.letta.memoryMaxChars,
      ...(callerMemory ? { tools: callerMemory.tools } : {}),
      // A call whose agent died comes back to a caller mid-conversation: no fresh hello.
      greeting: rescue ? rescueGreeting : defaultGreeting,
      ...(rescue?.openTurn ? { unanswered: rescue.openTurn.user } : {}),
      ...(callerMemory ? { greetAfter: callerMemory.ready } : {}),
      // A caller with nothing in memory gets the fixed greeting, if one is set; a rescued call never.
      ...(greeting && !rescue
        ? {
            fixedGreeting: () =>
              !callerMemory || callerMemory.isNew() ? { text: greeting.text, audio: greeting.stream() } : null,
          }
        : {}),
      deepgram: { ...config.deepgram, apiKey: required(config.deepgram.apiKey, 'DEEPGRAM_API_KEY') },
      elevenlabs: { ...config.elevenlabs, apiKey: required(config.elevenlabs.apiKey, 'ELEVEN_API_KEY') },
      ...(config.instructions !== undefined ? { instructions: config.instructions } : {}),
    });
    logTurnLatency(session, logger);
    logCallStarted(session, logger, clock);
    // For the join page's latency and memory panels: to this caller only, never to others in the room.
    const toCaller = (topic: string) => (json: string) =>
      ctx.room.localParticipant!.sendText(json, { topic, destinationIdentities: [participant.identity] });
    const notSent = (err: unknown) => logger.debug({ err }, 'panel figures not sent to the caller');
    publishTurns(session, toCaller(turnTopic), notSent, () => audioReceiveOf(ctx.room));
    const stopMemoryPanel =
      callerMemory && service
        ? publishMemory(callerMemory, service.writer, config.letta.memoryMaxChars, toCaller(memoryTopic), notSent)
        : undefined;
    metrics.metrics.observeSession(session);
    const unbindQuiet = bindQuietWindow(session, quiet);
    const stopRecording = callerMemory?.record(session);
    // Typed text goes to the caller's own Letta agent; without memory it is a turn of the call
    // (what RoomIO does by default). Either way only within the guard's rate and schema.
    const answerText: voice.TextInputCallback = callerMemory
      ? answerTextWith({ responder: callerMemory.text, agent, room: ctx.room, logger })
      : (s, ev) => {
          s.interrupt();
          s.generateReply({ userInput: ev.text });
        };
    await session.start({
      agent,
      room: ctx.room,
      inputOptions: {
        audioSampleRate: config.speech.roomInputSampleRate,
        audioFrameSizeMs: config.speech.roomInputFrameMs,
        textInputCallback: guardTypedMessages(answerText, {
          logger,
          tell: (text) => postAgentText(ctx.room, text),
        }),
      },
      outputOptions: roomOutputOptions(config.roomAudio),
    });
    clock.mark('sessionStartMs');

    holdCallLease(ctx, session, leases, participant, config.livekit.agentName ?? '', earlierJobs);
    const callEnd = endWithCaller(ctx, session, participant);

    // A job process ends with process.exit(): buffered spans must be sent before.
    ctx.addShutdownCallback(flushTracing);
    ctx.addShutdownCallback(async () => {
      unbindQuiet();
      stopRecording?.();
      stopMemoryPanel?.();
      // The job has 60 s to shut down; what does not reach Letta in time stays journaled.
      await service?.close(config.letta.shutdownFlushMs);
      await metrics.flush();
      // The job's place under WORKER_MAX_CALLS frees when its process exits, right after this.
      logger.info({ event: 'job_ended', afterCallerLeftMs: callEnd.sinceCallerLeftMs() }, 'job ended');
    });
  },
});
