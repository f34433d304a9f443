/** A small, fixed results file for the rendering tests: every scenario, known figures. */
import {
  type BenchResults,
  type LlmPathName,
  type LlmTurnRecord,
  type MemoryScenarioResult,
  type VoiceTurnRecord,
  resultsFormat,
} from '../../bench/results.ts';
import { overheadOf, summarizePath } from '../../bench/scenarios/llm.ts';
import { summarizeDesign } from '../../bench/scenarios/voice.ts';
import { profiles } from '../../sim/index.ts';
import { summarize } from '../../bench/stats.ts';

function llmTurn(index: number, ttftMs: number, gapMs: number, pieces: number): LlmTurnRecord {
  const arrivals = Array.from({ length: pieces }, (_, i) => ({ atMs: ttftMs + i * gapMs, chars: 5 }));
  return {
    lane: 0,
    index,
    prompt: `prompt ${index}`,
    startedAt: 1_700_000_000_000 + index * 10_000,
    ttftMs,
    totalMs: ttftMs + (pieces - 1) * gapMs + 2,
    arrivals,
    replyChars: pieces * 5,
    replyWords: 18,
  };
}

function path(name: LlmPathName, ttfts: number[], gapMs: number, pieces: number) {
  return summarizePath(
    name,
    1,
    ttfts.map((t, i) => llmTurn(i, t, gapMs, pieces)),
  );
}

function voiceTurn(
  index: number,
  e2eMs: number,
  llmTtftMs: number,
  pause?: { answeredEarly: boolean; userTurns: number },
): VoiceTurnRecord {
  return {
    index,
    fixture: `clip-${index}.wav`,
    transcript: 'Hello, can you hear me?',
    heard: 'Hello, can you hear me?',
    reply: 'You said: Hello.',
    speechEndAt: 1_700_000_000_000,
    firstAudioAt: 1_700_000_000_000 + e2eMs,
    e2eMs,
    transcriptionDelayMs: 350,
    endOfTurnDelayMs: 570,
    llmTtftMs,
    ttsTtfbMs: 650,
    frameworkE2eMs: e2eMs + 4,
    ttsWaitMs: 120,
    stageRatio: e2eMs / (350 + llmTtftMs + 650),
    userTurns: pause?.userTurns ?? 1,
    answeredEarly: pause?.answeredEarly ?? false,
    ...(pause ? { pause: { startMs: 1500, endMs: 2100 } } : {}),
    waterfall: {
      finalTranscriptMs: 350,
      endOfTurnMs: 570,
      llmStartMs: 352,
      llmFirstTokenMs: 352 + llmTtftMs,
      ttsFirstTextMs: 472 + llmTtftMs,
      ttsTtfbMs: 650,
      firstAudioMs: e2eMs,
    },
  };
}

export function sampleResults(): BenchResults {
  const step = path('letta-step', [4400, 4500, 5000], 0, 1);
  const tokens = path('letta-tokens', [3500, 3600, 4100], 30, 25);
  const hybrid = path('hybrid', [203, 210, 362], 30, 25);
  const direct = path('openai-direct', [201, 208, 360], 30, 25);
  return {
    format: resultsFormat,
    date: '2026-01-02T03:04:05.000Z',
    mode: 'sim',
    profile: {
      name: 'seed',
      description: profiles.seed.description,
      sources: profiles.seed.sources,
      values: profiles.seed,
    },
    seed: 1,
    config: { services: 'stand-ins' },
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryMb: 4096,
      freeMemoryMb: 2048,
      platform: 'linux test',
      arch: 'x64',
    },
    versions: { node: '24.21.0' },
    wallTimeMs: 201_000,
    headline: ['Scenarios: a sample.'],
    skipped: [],
    scenarios: {
      llm: {
        turnsPerPath: 3,
        lettaLanes: 1,
        paths: [step, tokens, hybrid, direct],
        hybridOverhead: overheadOf(hybrid, direct),
        notes: [],
      },
      voice: {
        turnsPerDesign: 2,
        designs: [
          summarizeDesign('letta', 'default', [voiceTurn(0, 4900, 3900), voiceTurn(1, 5100, 4100)]),
          summarizeDesign('hybrid', 'baseline', [
            voiceTurn(0, 1550, 210),
            voiceTurn(1, 1600, 220),
            voiceTurn(2, 1580, 215, { answeredEarly: false, userTurns: 2 }),
          ]),
          summarizeDesign('hybrid', 'default', [
            voiceTurn(0, 1250, 210),
            voiceTurn(1, 1290, 220),
            voiceTurn(2, 1270, 215, { answeredEarly: false, userTurns: 1 }),
          ]),
        ],
        targetMs: 1000,
        notes: [],
      },
      memory: [
        {
          journal: 'file',
          writeMode: 'messages',
          healthy: {
            turns: 8,
            ttft: summarize([200, 210]),
            lag: summarize([5000, 6000]),
            lagSamplesMs: [5000, 6000],
            drainMs: 4000,
            retries: 0,
          },
          faults: {
            ran: true,
            slowedByMs: 3000,
            turnsSlowed: 4,
            turnsDown: 4,
            downForMs: 6000,
            phase: {
              turns: 8,
              ttft: summarize([201, 209]),
              lag: summarize([14_000, 18_000]),
              lagSamplesMs: [14_000, 18_000],
              drainMs: 7000,
              retries: 6,
            },
            turnsSubmitted: 16,
            deadLettered: 1,
            lost: 0,
            duplicates: 0,
            metrics: {
              peak: { backlog: 7, oldestPendingS: 12.5, deadLetters: 1, acked: 15, retries: 6 },
              afterDrain: { backlog: 0, oldestPendingS: 0, deadLetters: 1, acked: 15, retries: 6 },
              afterReplay: { backlog: 0, oldestPendingS: 0, deadLetters: 0, acked: 16, retries: 6 },
            },
            ttftChange: summarize([-1, 2]),
          },
          notes: [],
        },
      ],
      load: {
        levels: [1, 20].map((n) => ({
          sessions: n,
          text: { turns: 3 * n, errors: 0, ttft: summarize([200]), overhead: summarize([3, 4]) },
          audio: { ran: true, turns: n, errors: 0, e2e: summarize([1500, 1800]) },
          rssPerSessionMb: 3.5,
          heapPerSessionMb: 2.2,
          holds: true,
          problems: [],
        })),
        breaksAt: null,
        criteria: { e2eP95MaxMs: 3000, overheadP95MaxMs: 250 },
        notes: [],
      },
      room: {
        fixtures: ['hello.wav', 'weather-paris.wav'],
        sideBySide: [
          {
            path: 'room-less',
            how: 'simulated microphone and speaker',
            turns: 2,
            errors: 0,
            e2e: summarize([1200, 1300]),
            frameworkE2e: summarize([1150, 1250]),
            e2eSamplesMs: [1200, 1300],
          },
          {
            path: 'room',
            how: 'a real room',
            turns: 2,
            errors: 0,
            e2e: summarize([1290, 1400]),
            frameworkE2e: summarize([1160, 1260]),
            e2eSamplesMs: [1290, 1400],
          },
        ],
        transport: { medianMs: 95, p95Ms: 99.5 },
        roomTurns: [],
        levels: [1, 5].map((n) => ({
          calls: n,
          jobsStarted: n === 1 ? 1 : 4,
          turns: 2 * n,
          failedTurns: n === 1 ? 0 : 2,
          e2e: summarize(n === 1 ? [1400, 1500] : [1600, 2000, 2500, 3500]),
          greeting: summarize([2000, 2400]),
          jobEndAfterHangUp: { ms: summarize(n === 1 ? [900] : [900, 1100, 1300, 1500]), notEnded: 0 },
          worker: {
            cpuCores: 0.25 * n,
            cpuPerJobPct: 22,
            rssPerJobMb: 288,
            peakRssMb: 1300 + 300 * n,
            jobProcesses: n + 2,
          },
          serverCpuCores: 0.02 * n,
          benchCpuCores: 0.1 * n,
          wallMs: 40_000,
          holds: n === 1,
          problems: n === 1 ? [] : ['1 job never started', '2 turns failed', 'e2e p95 3400 ms > 3000 ms'],
          workerWarnings: n === 1 ? [] : [{ level: 'error' as const, msg: 'initialization timed out', count: 2 }],
          callResults: [],
        })),
        heldUpTo: 1,
        breaksAt: 5,
        criteria: { e2eP95MaxMs: 3000, joinTimeoutMs: 60_000, jobEndWaitMs: 30_000 },
        notes: [],
      },
    },
  };
}

/**
 * The sample's memory scenario run twice on the file journal, as `--letta server` runs it: the
 * stand-in's result, then Letta's own server's, with known figures (one turn lost, none duplicated).
 */
export function sampleServerResults(): BenchResults {
  const r = sampleResults();
  const [sim] = r.scenarios.memory ?? [];
  if (!sim?.faults.ran) throw new Error('the sample has a stand-in memory run with faults');
  const server: MemoryScenarioResult = {
    ...sim,
    letta: 'server',
    healthy: { ...sim.healthy, lag: summarize([1500, 1700]), lagSamplesMs: [1500, 1700], drainMs: 350 },
    faults: {
      ...sim.faults,
      downForMs: 24_000,
      phase: { ...sim.faults.phase, lag: summarize([26_000, 30_000]), lagSamplesMs: [26_000, 30_000], retries: 7 },
      deadLettered: 0,
      lost: 1,
      duplicates: 0,
      metrics: {
        peak: { backlog: 5, oldestPendingS: 38.5, deadLetters: 0, acked: 15, retries: 7 },
        afterDrain: { backlog: 0, oldestPendingS: 0, deadLetters: 0, acked: 15, retries: 7 },
        afterReplay: { backlog: 0, oldestPendingS: 0, deadLetters: 0, acked: 15, retries: 7 },
      },
    },
    notes: ["the server's store holds 6 user messages (6 distinct otids) and 0 passages for the caller's agent"],
  };
  return { ...r, scenarios: { ...r.scenarios, memory: [sim, server] } };
}
