/**
 * The results file: every figure of a run, with what it ran on. The report, the HTML page and the
 * tables of bench/README.md are all rendered from this, so a stored file can be re-rendered at any time.
 */
import { cpus, freemem, platform, release, arch, totalmem, availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type SpeechSettings, baselineSpeechSettings } from '../src/voice/speech-settings.ts';
import type { MetricsReading } from './metrics-watch.ts';
import type { RoomScenarioResult } from './room-results.ts';
import type { LatencyProfile } from '../sim/index.ts';
import { projectRoot } from './project-root.ts';
import { type Arrival, type Summary, type Verdict, stageRatio, summarize } from './stats.ts';

export const resultsFormat = 'livekit-letta-voice-agent/bench@3';
/** Format 1 had one memory result (always on the file journal); read as a list of one. */
const format1 = 'livekit-letta-voice-agent/bench@1';
/** Formats 1 and 2 had one hybrid voice design, run with the baseline speech settings, and no cut-offs. */
const format2 = 'livekit-letta-voice-agent/bench@2';

export const resultsDir = join(projectRoot, 'bench', 'results');

export type ScenarioName = 'llm' | 'voice' | 'memory' | 'load' | 'room';
export const scenarioNames: readonly ScenarioName[] = ['llm', 'voice', 'memory', 'load', 'room'];
/** What a run with no --scenario runs: `room` starts LiveKit's server and real job processes, so it is asked for by name. */
export const defaultScenarios: readonly ScenarioName[] = ['llm', 'voice', 'memory', 'load'];

export type LlmPathName = 'letta-step' | 'letta-tokens' | 'hybrid' | 'openai-direct';

export interface LlmTurnRecord {
  /** Conversation the turn belongs to (letta paths run several agents side by side). */
  lane: number;
  /** Position of the turn in its path (0-based, across lanes). */
  index: number;
  prompt: string;
  /** Epoch ms when the request (or the llm node call) started. */
  startedAt: number;
  ttftMs: number | null;
  totalMs: number | null;
  /** Every piece of reply text as it arrived. */
  arrivals: Arrival[];
  replyChars: number;
  replyWords: number;
  /** Sim only: the stand-in's own record of this request (epoch ms). */
  server?: { receivedAt: number; firstSentAt: number | null };
  error?: string;
}

export interface LlmPathResult {
  path: LlmPathName;
  /** How the path is driven, one line. */
  how: string;
  lanes: number;
  turns: LlmTurnRecord[];
  ttft: Summary | null;
  total: Summary | null;
  /** Per turn TTFT / total: near 1 when the whole reply arrives at once. */
  ttftOverTotal: Summary | null;
  chunks: Summary | null;
  /** First to last piece of text, per turn. */
  spread: Summary | null;
  verdict: Verdict;
  /** Sim only: bench TTFT minus the stand-in's own (request received → first reply text sent). */
  vsStandIn: Summary | null;
  errors: number;
}

export interface Overhead {
  /** Paired per-turn differences (same latency draw on both sides). */
  pairs: number;
  medianMs: number;
  p95Ms: number;
  /** Median TTFT of the hybrid over median TTFT of the reference. */
  ratio: number | null;
}

export interface LlmScenarioResult {
  turnsPerPath: number;
  lettaLanes: number;
  paths: LlmPathResult[];
  /** Hybrid TTFT minus openai-direct TTFT. */
  hybridOverhead: Overhead | null;
  notes: string[];
}

/** Offsets in ms from the moment the caller stopped speaking (manifest speech end). */
export interface Waterfall {
  finalTranscriptMs: number | null;
  endOfTurnMs: number | null;
  llmStartMs: number | null;
  llmFirstTokenMs: number | null;
  /** The TTS sent its first text to the provider (what its tokenizer waited for ends here). */
  ttsFirstTextMs: number | null;
  ttsTtfbMs: number | null;
  firstAudioMs: number | null;
  /**
   * The reply's first audible sample (after the TTS audio's leading silence); not in older files,
   * and in files before 2026-12-03 the start of the frame that held it.
   */
  firstAudibleMs?: number | null;
  /** The start of the frame that held that sample (the former `firstAudibleMs`); not in older files. */
  firstAudibleFrameMs?: number | null;
}

export interface VoiceTurnRecord {
  index: number;
  fixture: string;
  transcript: string;
  heard: string | null;
  reply: string;
  /** Epoch ms: clip start + manifest speech end. */
  speechEndAt: number;
  /** Epoch ms the simulated speaker played the first frame of the reply. */
  firstAudioAt: number | null;
  /** speechEndAt → firstAudioAt. */
  e2eMs: number | null;
  /** The framework's own figures (TurnLatency). */
  transcriptionDelayMs: number | null;
  endOfTurnDelayMs: number | null;
  llmTtftMs: number | null;
  ttsTtfbMs: number | null;
  frameworkE2eMs: number | null;
  /** First token → first text into TTS: the tokenizer's wait (and, without preemptive TTS, the turn's). */
  ttsWaitMs: number | null;
  /** e2e ÷ (transcription delay + llm TTFT + TTS TTFB): 1 when nothing but the three stages is waited for. */
  stageRatio: number | null;
  /** Recordings with a pause inside the sentence: where it lies in the clip (ms). */
  pause?: { startMs: number; endMs: number };
  /** User turns committed for this utterance: 2 or more means it was split. */
  userTurns: number;
  /** Agent audio started after the pause began but before the caller's last word. */
  answeredEarly: boolean;
  waterfall: Waterfall;
  error?: string;
}

export type VoiceDesign = 'letta' | 'hybrid';

/** False cut-offs on the pause recordings. */
export interface CutoffCounts {
  utterances: number;
  /** The agent began answering inside the pause (before the caller's last word). */
  answeredEarly: number;
  /** Utterances committed as two or more user turns. */
  split: number;
  /** Utterances with either. */
  cutOff: number;
}

export interface VoiceDesignResult {
  design: VoiceDesign;
  /** Name of the speech setting (`bench/voice-settings.ts`). */
  setting: string;
  speech: SpeechSettings;
  how: string;
  turns: VoiceTurnRecord[];
  transcriptionDelay: Summary | null;
  endOfTurnDelay: Summary | null;
  llmTtft: Summary | null;
  ttsTtfb: Summary | null;
  e2e: Summary | null;
  frameworkE2e: Summary | null;
  ttsWait: Summary | null;
  stageRatio: Summary | null;
  cutoffs: CutoffCounts | null;
  errors: number;
}

export interface VoiceScenarioResult {
  turnsPerDesign: number;
  designs: VoiceDesignResult[];
  /** The design target: the caller hears the reply start within this many ms. */
  targetMs: number;
  notes: string[];
}

export interface MemoryPhase {
  turns: number;
  ttft: Summary | null;
  /** Turn finished → Letta acknowledged it. */
  lag: Summary | null;
  /** The same, per acknowledged turn, in turn order. */
  lagSamplesMs: number[];
  /** Last turn submitted (or Letta back up) → every turn acknowledged; null if it never drained. */
  drainMs: number | null;
  retries: number;
}

/** Where the memory scenario's writer journals turns. */
export type JournalKind = 'file' | 'redis';

/** Which Letta the memory scenario wrote to: the stand-in (sim/) or Letta's own server (`--letta server`). */
export type LettaKind = 'sim' | 'server';

export interface MemoryScenarioResult {
  journal: JournalKind;
  /** Absent: the backend's Letta (the stand-in, or live Letta with `--live`). */
  letta?: LettaKind;
  writeMode: string;
  healthy: MemoryPhase;
  faults:
    | {
        ran: true;
        slowedByMs: number;
        turnsSlowed: number;
        turnsDown: number;
        downForMs: number;
        phase: MemoryPhase;
        turnsSubmitted: number;
        /** Turns of the one batch Letta refused for good (a 422) in the fault phase, replayed after the drain (not in format 1). */
        deadLettered?: number;
        lost: number;
        duplicates: number;
        /** The product's /metrics as read during the fault phase (highest values) and after (not in format 1). */
        metrics?: { peak: MetricsReading; afterDrain: MetricsReading; afterReplay: MetricsReading };
        /** Per turn, fault-phase TTFT minus the healthy TTFT of the same latency draw. */
        ttftChange: Summary | null;
      }
    | { ran: false; reason: string };
  notes: string[];
}

export interface LoadLevelResult {
  sessions: number;
  text: { turns: number; errors: number; ttft: Summary | null; overhead: Summary | null };
  audio: { ran: boolean; reason?: string; turns: number; errors: number; e2e: Summary | null };
  /** Resident memory growth at the peak of the level, divided by its sessions. */
  rssPerSessionMb: number | null;
  heapPerSessionMb: number | null;
  holds: boolean;
  problems: string[];
}

export interface LoadScenarioResult {
  levels: LoadLevelResult[];
  /** First level that did not hold, or null. */
  breaksAt: number | null;
  criteria: { e2eP95MaxMs: number; overheadP95MaxMs: number };
  notes: string[];
}

export interface ProfileInfo {
  name: string;
  description: string;
  sources: string[];
  values: LatencyProfile | null;
}

export interface BenchResults {
  format: typeof resultsFormat;
  date: string;
  mode: 'sim' | 'live';
  profile: ProfileInfo;
  seed: number;
  /** What was run and against what (no secrets). */
  config: Record<string, unknown>;
  machine: Machine;
  versions: Record<string, string>;
  wallTimeMs: number;
  /** The report's first lines: mode, profile, turn counts. */
  headline: string[];
  skipped: { scenario: ScenarioName; reason: string }[];
  scenarios: {
    llm?: LlmScenarioResult;
    voice?: VoiceScenarioResult;
    /** One run per journal, the file journal first. */
    memory?: MemoryScenarioResult[];
    load?: LoadScenarioResult;
    room?: RoomScenarioResult;
  };
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryMb: number;
  freeMemoryMb: number;
  platform: string;
  arch: string;
}

export function machineInfo(): Machine {
  const cpu = cpus()[0];
  return {
    cpuModel: cpu?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
    freeMemoryMb: Math.round(freemem() / 2 ** 20),
    platform: `${platform()} ${release()}`,
    arch: arch(),
  };
}

const trackedPackages = [
  '@livekit/agents',
  '@livekit/agents-plugin-deepgram',
  '@livekit/agents-plugin-elevenlabs',
  '@livekit/agents-plugin-openai',
  '@livekit/agents-plugin-silero',
  '@livekit/rtc-node',
  '@letta-ai/letta-client',
  'openai',
  'onnxruntime-node',
];

/** Node and the versions of the packages on the measured path, as installed. */
export function versionInfo(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  const own = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  out[own.name] = own.version;
  for (const name of trackedPackages) {
    try {
      const pkg = JSON.parse(readFileSync(join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      };
      out[name] = pkg.version;
    } catch {
      out[name] = 'not installed';
    }
  }
  return out;
}

/** `bench/results/2026-11-24T08-30-00Z-seed.json`: sorts by time, names the profile. */
export function defaultResultsPath(date: Date, profileName: string): string {
  const stamp = date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  return join(resultsDir, `${stamp}-${profileName.replace(/[^\w.-]/g, '_')}.json`);
}

export function writeResults(path: string, results: BenchResults): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

export function readResults(path: string): BenchResults {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<BenchResults>;
  const format = parsed.format as string | undefined;
  if ((format === format1 || format === format2) && parsed.scenarios) {
    const memory = parsed.scenarios.memory as unknown as
      MemoryScenarioResult[] | Omit<MemoryScenarioResult, 'journal'> | undefined;
    const voice = parsed.scenarios.voice;
    return {
      ...(parsed as BenchResults),
      format: resultsFormat,
      scenarios: {
        ...parsed.scenarios,
        ...(memory && !Array.isArray(memory) ? { memory: [{ ...memory, journal: 'file' as const }] } : {}),
        ...(voice ? { voice: { ...voice, designs: voice.designs.map(upgradeDesign) } } : {}),
      },
    };
  }
  if (format !== resultsFormat) {
    throw new Error(
      `${path} is not a results file of this bench (format ${JSON.stringify(parsed.format)}, expected ${resultsFormat})`,
    );
  }
  return parsed as BenchResults;
}

/** A voice design from format 1 or 2: the hybrid ran the baseline settings; ratios are recomputed. */
function upgradeDesign(stored: VoiceDesignResult): VoiceDesignResult {
  if ('setting' in stored) return stored;
  const d = stored as Omit<VoiceDesignResult, 'setting'>;
  const turns = d.turns.map((t) => ({
    ...t,
    ttsWaitMs: null,
    stageRatio: stageRatio(t.e2eMs, [t.transcriptionDelayMs, t.llmTtftMs, t.ttsTtfbMs]),
    userTurns: 1,
    answeredEarly: false,
    waterfall: { ...t.waterfall, ttsFirstTextMs: null },
  }));
  return {
    ...d,
    setting: d.design === 'hybrid' ? 'baseline' : 'default',
    speech: baselineSpeechSettings,
    turns,
    ttsWait: null,
    stageRatio: summarize(turns.filter((t) => !t.error).map((t) => t.stageRatio)),
    cutoffs: null,
  };
}

/** The newest results file in a directory: names start with an ISO time, so the last name is the newest. */
export function newestResults(dir: string = resultsDir): string | null {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json') && statSync(join(dir, n)).isFile());
  } catch {
    return null;
  }
  names.sort();
  const last = names.at(-1);
  return last === undefined ? null : join(dir, last);
}
