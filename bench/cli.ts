/**
 * `npm run bench`: a few verbs over stored results.
 *
 *   run (default)     run the scenarios, print the tables, write the results file and the HTML report
 *   report FILE       print the tables of a stored results file again and re-render its HTML report
 *   readme [FILE]     put a results file's tables into bench/README.md, between the bench markers
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initializeLogger } from '@livekit/agents';
import { loadConfigOrExit } from '../src/config.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { type Backend, liveBackend, simBackend } from './backend.ts';
import { type Progress, silentProgress, terminalProgress } from './progress.ts';
import { writeHtml } from './report/html.ts';
import { benchReadme, updateReadme } from './report/readme.ts';
import { renderReport } from './report/tables.ts';
import {
  type BenchResults,
  type JournalKind,
  type LettaKind,
  type ScenarioName,
  defaultResultsPath,
  defaultScenarios,
  machineInfo,
  newestResults,
  readResults,
  resultsFormat,
  scenarioNames,
  versionInfo,
  writeResults,
} from './results.ts';
import { llmPathNames, runLlmScenario } from './scenarios/llm.ts';
import { defaultLoadScenarioOptions, runLoadScenario } from './scenarios/load.ts';
import { defaultMemoryScenarioOptions, runMemoryScenario } from './scenarios/memory.ts';
import { defaultRoomScenarioOptions, roomScenarioUnavailable, runRoomScenario } from './scenarios/room.ts';
import { runVoiceScenario } from './scenarios/voice.ts';
import { noRedisReason, redisServerPath } from './redis-server.ts';
import { type ServerLetta, lettaServerVersion, serverAgentModel, startServerLetta } from './letta-server-backend.ts';
import { getProfile, profiles, nowMs } from '../sim/index.ts';
import { SpeechResources, defaultVoiceSettings, resolveVoiceSettings } from './voice-settings.ts';
import type { RoomVariant } from './room-results.ts';
import { parseRoomVariants } from './room-variants.ts';

export interface RunOptions {
  scenarios: ScenarioName[] | null;
  profile: string;
  seed: number;
  /** llm turns per path. */
  turns: number;
  /** Spoken turns per design. */
  voiceTurns: number;
  /** Speech settings the hybrid voice calls run under, in order (`bench/voice-settings.ts`). */
  voiceSettings: string[];
  /** Pause recordings spoken per hybrid setting. */
  pauseClips: number;
  /** Letta agents side by side per letta path. */
  lanes: number;
  loadLevels: number[];
  /** Spoken turns per call at each load level. */
  loadAudioTurns: number;
  /** Journals the memory scenario runs on; the file journal always, as the baseline. */
  journals: JournalKind[];
  /**
   * The memory scenario's Letta: the stand-in (`sim`), or with `server` the stand-in and then Letta's
   * own server, one after the other, so that the table shows both.
   */
  letta: LettaKind;
  /** Spoken turns of each side-by-side call of the room scenario. */
  roomTurns: number;
  /** Room load levels run first; then the level doubles until one breaks or passes roomMaxCalls. */
  roomLevels: number[];
  roomMaxCalls: number;
  /** The worker's LIVEKIT_NUM_IDLE_PROCESSES in the room scenario; null: its default. */
  roomIdleProcesses: number | null;
  /** Worker settings compared in the room scenario (`bench/room-variants.ts`); null: the defaults only. */
  roomVariants: RoomVariant[] | null;
  /** Random loss levels (%) of one room call each on an impaired caller network; empty: none. */
  roomLoss: number[];
  /** A room call with a blackout this long (s) mid-reply; null: none. */
  roomBlackoutSeconds: number | null;
  nodes: number;
  live: boolean;
  json: string | null;
  html: string | null;
  noHtml: boolean;
  quiet: boolean;
}

/**
 * `--full`: every scenario but room, and the voice scenario's baseline setting and pause recordings
 * too. The four llm paths run side by side (the letta paths as 4 agents of 5 turns each); spoken
 * turns take real time (speech, then the reply played out), so voice and load speak fewer of them.
 */
export const fullRunOptions: RunOptions = {
  scenarios: null,
  profile: 'seed',
  seed: 1,
  turns: 20,
  voiceTurns: 5,
  voiceSettings: defaultVoiceSettings,
  pauseClips: 10,
  lanes: 4,
  loadLevels: [...defaultLoadScenarioOptions.levels],
  loadAudioTurns: 1,
  journals: ['file'],
  letta: 'sim',
  roomTurns: defaultRoomScenarioOptions.turns,
  roomLevels: [...defaultRoomScenarioOptions.levels],
  roomMaxCalls: defaultRoomScenarioOptions.maxCalls,
  roomIdleProcesses: null,
  roomVariants: null,
  roomLoss: [],
  roomBlackoutSeconds: null,
  nodes: 1,
  live: false,
  json: null,
  html: null,
  noHtml: false,
  quiet: false,
};

/**
 * A run with no flags: the headline figures only, in about two minutes on 2 cores. The hybrid
 * against Letta in the path: time to first token (llm, every path) and end to end (voice, the
 * product's speech settings, no pause recordings).
 */
export const defaultRunOptions: RunOptions = {
  ...fullRunOptions,
  scenarios: ['llm', 'voice'],
  voiceSettings: ['default'],
  pauseClips: 0,
};

export const usage = `Usage:
  npm run bench [-- run] [options]     run the benchmark (no keys needed: built-in stand-ins)
  npm run bench -- report FILE [--html FILE]
                                       print a stored results file's tables, re-render its HTML
  npm run bench -- readme [FILE] [--readme bench/README.md]
                                       put a results file's tables into bench/README.md (default: newest)

With no options, run measures the headline figures (about 2 minutes on two cores): the hybrid against
Letta in the path, time to first token (llm) and end to end (voice, the default speech settings).

Options of run:
  --full                  the full set (about 8.5 minutes on two cores): llm, voice with the baseline
                          setting and ${fullRunOptions.pauseClips} pause recordings, memory and load
  --scenario NAME[,NAME]  llm, voice, memory, load, room (default: llm,voice; with --full all but room that
                          the mode can run; room starts LiveKit's server and the worker, in a network
                          namespace of its own)
  --profile NAME          stand-in latency profile: ${Object.keys(profiles).join(', ')} (default ${defaultRunOptions.profile})
  --seed N                seeds the stand-ins' latency draws; same seed, same draws (default ${defaultRunOptions.seed})
  --turns N               llm turns per path (default ${defaultRunOptions.turns})
  --voice-turns N         spoken turns per design in the voice scenario (default ${defaultRunOptions.voiceTurns})
  --voice-settings LIST   speech settings of the hybrid voice calls, run one after the other
                          (bench/voice-settings.ts; "levers" = all of them; default ${defaultRunOptions.voiceSettings.join(',')};
                          with --full ${fullRunOptions.voiceSettings.join(',')})
  --pause-clips N         pause recordings spoken per setting, for false cut-offs (default ${defaultRunOptions.pauseClips}, with --full ${fullRunOptions.pauseClips}; 0: none)
  --lanes N               Letta agents side by side per letta path (default ${defaultRunOptions.lanes})
  --load-levels LIST      concurrent calls per load level (default ${defaultRunOptions.loadLevels.join(',')})
  --load-audio-turns N    spoken turns per call at each load level (default ${defaultRunOptions.loadAudioTurns})
  --journal NAME          memory scenario journal: file (default) or redis (a redis-server of its own on
                          127.0.0.1, run beside the file journal so the table shows both)
  --letta NAME            memory scenario's Letta: sim (default: the stand-in) or server (the stand-in, then
                          Letta's own server ${lettaServerVersion} on a fresh database, same phases; the table shows
                          both; scripts/letta-server.sh installs it once, then it adds about two minutes)
  --room-turns N          spoken turns of the room scenario's side-by-side calls (default ${defaultRunOptions.roomTurns})
  --room-levels LIST      rooms at once per room load level; then doubling until one breaks (default ${defaultRunOptions.roomLevels.join(',')})
  --room-max-calls N      the room load levels stop here even if none broke (default ${defaultRunOptions.roomMaxCalls})
  --room-idle-processes N job processes the worker keeps warm (LIVEKIT_NUM_IDLE_PROCESSES; default: the framework's)
  --room-variants LIST    worker settings compared side by side, each its own worker and run of the levels:
                          default, or SETTING=VALUE[+SETTING=VALUE], comma-separated
  --loss LIST             room: one call per level of random loss (%) of the caller's UDP both ways (nftables
                          in the namespace; e.g. 0,2,5,10), after the load levels
  --blackout SECONDS      room: one call whose caller loses every packet for this long, 1.5 s into its first reply
  --nodes N               room scenario on N LiveKit nodes (multi-node mode, one redis-server) with one worker
                          registered with each; the load table then gives rooms per node and jobs per worker (default 1)
  --live                  the real services from the configuration (.env / environment):
                          OPENAI_BASE_URL, LETTA_BASE_URL, DEEPGRAM_BASE_URL, ELEVENLABS_BASE_URL and keys
  --json FILE             results file (default bench/results/<date>-<profile>.json)
  --html FILE             HTML report (default: the results file with .html)
  --no-html               no HTML report
  --quiet                 no progress bar on stderr
`;

/** Whether a command line runs the room scenario, which needs a network of its own (see bench/run.ts). */
export function needsRooms(argv: string[]): boolean {
  try {
    const cmd = parseCommand(argv);
    return cmd.verb === 'run' && !cmd.options.live && (cmd.options.scenarios?.includes('room') ?? false);
  } catch {
    return false;
  }
}

export type Command =
  | { verb: 'run'; options: RunOptions }
  | { verb: 'report'; file: string; html: string | null }
  | { verb: 'readme'; file: string | null; readme: string }
  | { verb: 'help' };

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(v)})`);
  return n;
}

function pauseClipsOf(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--pause-clips must be 0 or more (got ${JSON.stringify(v)})`);
  return n;
}

export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scenario: { type: 'string' },
      profile: { type: 'string' },
      seed: { type: 'string' },
      turns: { type: 'string' },
      'voice-turns': { type: 'string' },
      'voice-settings': { type: 'string' },
      'pause-clips': { type: 'string' },
      lanes: { type: 'string' },
      'load-levels': { type: 'string' },
      'load-audio-turns': { type: 'string' },
      journal: { type: 'string' },
      letta: { type: 'string' },
      'room-turns': { type: 'string' },
      'room-levels': { type: 'string' },
      'room-max-calls': { type: 'string' },
      'room-idle-processes': { type: 'string' },
      'room-variants': { type: 'string' },
      loss: { type: 'string' },
      blackout: { type: 'string' },
      nodes: { type: 'string' },
      live: { type: 'boolean' },
      json: { type: 'string' },
      html: { type: 'string' },
      'no-html': { type: 'boolean' },
      quiet: { type: 'boolean' },
      full: { type: 'boolean' },
      readme: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { verb: 'help' };
  const [verb = 'run', arg, ...extra] = positionals;
  if (extra.length > 0) throw new Error(`unexpected arguments: ${extra.join(' ')}`);
  if (verb === 'report') {
    if (arg === undefined) throw new Error('report needs a results file: npm run bench -- report FILE');
    return { verb, file: arg, html: values.html ?? null };
  }
  if (verb === 'readme') return { verb, file: arg ?? null, readme: values.readme ?? benchReadme };
  if (verb !== 'run') throw new Error(`unknown verb "${verb}" (run, report, readme)`);
  if (arg !== undefined) throw new Error(`unexpected argument "${arg}"`);
  const d = values.full ? fullRunOptions : defaultRunOptions;
  let scenarios: ScenarioName[] | null = d.scenarios;
  if (values.scenario !== undefined) {
    scenarios = values.scenario.split(',').map((s) => s.trim()) as ScenarioName[];
    const unknown = scenarios.filter((s) => !scenarioNames.includes(s));
    if (unknown.length > 0)
      throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${scenarioNames.join(', ')})`);
  }
  if (values.profile !== undefined) getProfile(values.profile);
  if (values.live && values.profile !== undefined)
    throw new Error('--profile applies to the stand-ins; --live measures the configured services');
  const seed = values.seed === undefined ? d.seed : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer (got ${JSON.stringify(values.seed)})`);
  const levels = values['load-levels']?.split(',').map((v) => positiveInt('load-levels', v.trim(), 1)) ?? d.loadLevels;
  const journal = values.journal ?? 'file';
  if (journal !== 'file' && journal !== 'redis')
    throw new Error(`--journal must be file or redis (got ${JSON.stringify(journal)})`);
  const letta = values.letta ?? d.letta;
  if (letta !== 'sim' && letta !== 'server')
    throw new Error(`--letta must be sim or server (got ${JSON.stringify(letta)})`);
  // Options of the memory scenario alone bring it into a run that names no scenario.
  if (values.scenario === undefined && scenarios !== null && (letta === 'server' || journal === 'redis'))
    scenarios = [...scenarios, 'memory'];
  if (letta === 'server' && values.live)
    throw new Error(
      "--letta server runs Letta's own server beside the stand-ins; --live measures the configured Letta",
    );
  if (letta === 'server' && scenarios !== null && !scenarios.includes('memory'))
    throw new Error('--letta applies to the memory scenario: add memory to --scenario, or --full');
  const roomLoss = values.loss?.split(',').map((v) => percentOf(v.trim())) ?? d.roomLoss;
  const roomBlackoutSeconds = values.blackout === undefined ? d.roomBlackoutSeconds : blackoutOf(values.blackout);
  if ((roomLoss.length > 0 || roomBlackoutSeconds !== null) && !(scenarios ?? []).includes('room'))
    throw new Error('--loss and --blackout apply to the room scenario: add room to --scenario');
  return {
    verb: 'run',
    options: {
      scenarios,
      profile: values.profile ?? d.profile,
      seed,
      turns: positiveInt('turns', values.turns, d.turns),
      voiceTurns: positiveInt('voice-turns', values['voice-turns'], d.voiceTurns),
      voiceSettings:
        values['voice-settings'] === undefined ? d.voiceSettings : resolveVoiceSettings(values['voice-settings']),
      pauseClips: pauseClipsOf(values['pause-clips'], d.pauseClips),
      lanes: positiveInt('lanes', values.lanes, d.lanes),
      loadLevels: levels,
      loadAudioTurns: positiveInt('load-audio-turns', values['load-audio-turns'], d.loadAudioTurns),
      journals: journal === 'redis' ? ['file', 'redis'] : ['file'],
      letta,
      roomTurns: positiveInt('room-turns', values['room-turns'], d.roomTurns),
      roomLevels: values['room-levels']?.split(',').map((v) => positiveInt('room-levels', v.trim(), 1)) ?? d.roomLevels,
      roomMaxCalls: positiveInt('room-max-calls', values['room-max-calls'], d.roomMaxCalls),
      roomIdleProcesses:
        values['room-idle-processes'] === undefined
          ? null
          : positiveInt('room-idle-processes', values['room-idle-processes'], 1),
      roomVariants: values['room-variants'] === undefined ? null : parseRoomVariants(values['room-variants']),
      roomLoss,
      roomBlackoutSeconds,
      nodes: positiveInt('nodes', values.nodes, 1),
      live: values.live ?? false,
      json: values.json ?? null,
      html: values.html ?? null,
      noHtml: values['no-html'] ?? false,
      quiet: values.quiet ?? false,
    },
  };
}

function percentOf(v: string): number {
  const n = Number(v);
  if (v === '' || !Number.isInteger(n) || n < 0 || n > 100)
    throw new Error(`--loss takes whole percentages from 0 to 100 (got ${JSON.stringify(v)})`);
  return n;
}

function blackoutOf(v: string): number {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n <= 0 || n > 30)
    throw new Error(`--blackout takes seconds, above 0 and at most 30 (got ${JSON.stringify(v)})`);
  return n;
}

function roomReason(backend: Backend): string | null {
  return backend.mode === 'live'
    ? 'room runs against the stand-ins only (it measures the room and the worker, not your accounts)'
    : roomScenarioUnavailable();
}

/** Which scenarios the mode can run, and why the others cannot. */
export function plan(
  backend: Backend,
  wanted: ScenarioName[] | null,
): { run: ScenarioName[]; skipped: BenchResults['skipped'] } {
  const m = backend.missing;
  const asked = wanted ?? defaultScenarios;
  const why: Record<ScenarioName, string | null> = {
    llm: m.openai,
    voice: m.openai ?? m.deepgram ?? m.elevenlabs,
    memory: m.letta ?? m.openai,
    load:
      backend.mode === 'live' ? 'load runs against the stand-ins only (it would put N calls on your accounts)' : null,
    // Looked into only when asked for: finding the server runs a script.
    room: asked.includes('room') ? roomReason(backend) : null,
  };
  const run: ScenarioName[] = [];
  const skipped: BenchResults['skipped'] = [];
  for (const s of asked) {
    const reason = why[s];
    if (reason === null) run.push(s);
    else skipped.push({ scenario: s, reason });
  }
  return { run, skipped };
}

function headlineFor(o: RunOptions, run: ScenarioName[], backend: Backend): string[] {
  const parts: string[] = [];
  const lanes = Math.min(o.lanes, o.turns);
  if (run.includes('llm')) {
    const letta =
      backend.missing.letta === null
        ? ` (letta paths as ${lanes} agent${lanes === 1 ? '' : 's'} side by side, up to ${Math.ceil(o.turns / lanes)} turns each)`
        : '';
    parts.push(`llm: ${o.turns} turns per path, same prompts${letta}`);
  }
  if (run.includes('voice'))
    parts.push(
      `voice: ${o.voiceTurns} spoken turns per design (fewer: each waits for speech and the reply's playback in real time)`,
    );
  if (run.includes('memory')) {
    const d = defaultMemoryScenarioOptions;
    parts.push(
      backend.mode === 'sim'
        ? `memory: ${d.healthyTurns} healthy turns, then ${d.slowedTurns} with Letta slowed by ${d.slowByMs} ms and ${d.downTurns} with Letta down` +
            (o.letta === 'server'
              ? `, on the Letta stand-in and then on Letta's own server ${lettaServerVersion} (slowed: each model call of its agent steps takes ${d.slowByMs} ms; down: the server stopped, then started again with its data)`
              : '')
        : `memory: ${d.healthyTurns} turns (no faults on live services)`,
    );
  }
  if (run.includes('load')) {
    parts.push(
      `load: ${o.loadLevels.join(', ')} concurrent calls (${defaultLoadScenarioOptions.textTurns} text turns and ${o.loadAudioTurns} spoken turn${o.loadAudioTurns === 1 ? '' : 's'} per call)`,
    );
  }
  if (run.includes('room')) {
    parts.push(
      `room: ${o.roomTurns} spoken turns with and without a real room, then ${o.roomLevels.join(', ')}… rooms at once (${defaultRoomScenarioOptions.loadTurns} spoken turns per call) until a level breaks or passes ${o.roomMaxCalls}`,
    );
  }
  return parts.length ? [`Scenarios: ${parts.join('; ')}.`] : [];
}

export async function runBench(
  o: RunOptions,
  progress: Progress = silentProgress,
): Promise<{ results: BenchResults; exitCode: number }> {
  const started = nowMs();
  const date = new Date();
  let backend: Backend;
  if (o.live) {
    loadConfigOrExit('bench');
    backend = liveBackend(process.env);
  } else {
    backend = simBackend({ profile: getProfile(o.profile), seed: o.seed });
  }
  initializeLogger({ pretty: false, level: 'silent' });
  const logger = createLogger({ level: 'silent', secrets: backend.config.secrets });
  const { run, skipped } = plan(backend, o.scenarios);
  const scenarios: BenchResults['scenarios'] = {};
  let exitCode = 0;
  const resources = new SpeechResources();
  try {
    for (const s of run) {
      try {
        if (s === 'llm')
          scenarios.llm = await runLlmScenario(
            backend,
            { turns: o.turns, lettaLanes: o.lanes, paths: llmPathNames, logger },
            progress,
          );
        else if (s === 'voice') {
          scenarios.voice = await runVoiceScenario(
            backend,
            {
              turns: o.voiceTurns,
              letta: true,
              settings: o.voiceSettings,
              pauseClips: o.pauseClips,
              resources,
              logger,
            },
            progress,
          );
        } else if (s === 'memory') {
          scenarios.memory = [];
          /** Letta's own server (`--letta server`): started before its first run, serving every journal's. */
          let server: ServerLetta | null | undefined;
          try {
            for (const journal of o.journals) {
              if (journal === 'redis' && !redisServerPath()) {
                exitCode = 1;
                skipped.push({ scenario: s, reason: `redis journal: ${noRedisReason}` });
                continue;
              }
              scenarios.memory.push(
                await runMemoryScenario(backend, { ...defaultMemoryScenarioOptions, journal, logger }, progress),
              );
              if (o.letta !== 'server') continue;
              if (server === undefined) {
                progress.phase(`memory: starting Letta's own server ${lettaServerVersion}`);
                server = await startServerLetta({ profile: getProfile(o.profile), seed: backend.seed + 11 }).catch(
                  (err: unknown) => {
                    exitCode = 1;
                    skipped.push({
                      scenario: s,
                      reason: `Letta's own server could not be started: ${err instanceof Error ? err.message : String(err)}`,
                    });
                    return null;
                  },
                );
              }
              if (server === null) continue;
              scenarios.memory.push(
                await runMemoryScenario(
                  backend,
                  { ...defaultMemoryScenarioOptions, journal, server, logger },
                  progress,
                ),
              );
            }
          } finally {
            await server?.close();
          }
        } else if (s === 'room') {
          scenarios.room = await runRoomScenario(
            backend,
            {
              turns: o.roomTurns,
              levels: o.roomLevels,
              maxCalls: o.roomMaxCalls,
              loadTurns: defaultRoomScenarioOptions.loadTurns,
              ...(o.roomIdleProcesses !== null ? { idleProcesses: o.roomIdleProcesses } : {}),
              ...(o.roomVariants !== null ? { variants: o.roomVariants } : {}),
              ...(o.roomLoss.length > 0 || o.roomBlackoutSeconds !== null
                ? {
                    network: {
                      lossPcts: o.roomLoss,
                      blackoutMs: o.roomBlackoutSeconds === null ? null : o.roomBlackoutSeconds * 1000,
                    },
                  }
                : {}),
              nodes: o.nodes,
              resources,
              logger,
            },
            progress,
          );
        } else {
          scenarios.load = await runLoadScenario(
            backend,
            {
              ...defaultLoadScenarioOptions,
              levels: o.loadLevels,
              audioTurns: o.loadAudioTurns,
              resources,
              logger,
            },
            progress,
          );
        }
      } catch (err) {
        exitCode = 1;
        skipped.push({ scenario: s, reason: `failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
  } finally {
    await backend.close();
    progress.done();
  }
  for (const { faults: f } of scenarios.memory ?? []) if (f.ran && (f.lost > 0 || f.duplicates > 0)) exitCode = 1;
  const results: BenchResults = {
    format: resultsFormat,
    date: date.toISOString(),
    mode: backend.mode,
    profile: backend.profile,
    seed: backend.seed,
    config: {
      ...backend.describe(),
      scenarios: run,
      turns: o.turns,
      voiceTurns: o.voiceTurns,
      voiceSettings: o.voiceSettings,
      pauseClips: o.pauseClips,
      lettaLanes: o.lanes,
      loadLevels: o.loadLevels,
      loadAudioTurns: o.loadAudioTurns,
      ...(run.includes('memory') && o.letta === 'server'
        ? { memoryLetta: ['stand-in', `Letta's own server ${lettaServerVersion}, model ${serverAgentModel}`] }
        : {}),
      ...(run.includes('room')
        ? {
            roomTurns: o.roomTurns,
            roomLevels: o.roomLevels,
            roomMaxCalls: o.roomMaxCalls,
            roomIdleProcesses: o.roomIdleProcesses,
            ...(o.roomVariants !== null ? { roomVariants: o.roomVariants.map((v) => v.name) } : {}),
            ...(o.roomLoss.length > 0 ? { roomLoss: o.roomLoss } : {}),
            ...(o.roomBlackoutSeconds !== null ? { roomBlackoutSeconds: o.roomBlackoutSeconds } : {}),
            nodes: o.nodes,
          }
        : {}),
    },
    machine: machineInfo(),
    versions: versionInfo(),
    wallTimeMs: nowMs() - started,
    headline: headlineFor(o, run, backend),
    skipped,
    scenarios,
  };
  return { results, exitCode };
}

function htmlPathFor(jsonPath: string): string {
  return jsonPath.replace(/\.json$/, '') + '.html';
}

export async function main(argv: string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (cmd.verb === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (cmd.verb === 'report') {
    const r = readResults(cmd.file);
    process.stdout.write(`${renderReport(r)}\n`);
    const html = cmd.html ?? htmlPathFor(cmd.file);
    writeHtml(html, r);
    process.stderr.write(`bench: HTML report ${html}\n`);
    return 0;
  }
  if (cmd.verb === 'readme') {
    const file = cmd.file ?? newestResults();
    if (file === null || !existsSync(file)) {
      process.stderr.write('bench: no results file; run `npm run bench` first or name one\n');
      return 2;
    }
    updateReadme(cmd.readme, readResults(file), file);
    process.stderr.write(`bench: ${cmd.readme} updated from ${file}\n`);
    return 0;
  }
  const o = cmd.options;
  const { results, exitCode } = await runBench(o, o.quiet ? silentProgress : terminalProgress());
  const json = o.json ?? defaultResultsPath(new Date(results.date), results.profile.name);
  writeResults(json, results);
  process.stdout.write(`${renderReport(results)}\n\n`);
  process.stdout.write(`Results: ${json}\n`);
  if (!o.noHtml) {
    const html = o.html ?? htmlPathFor(json);
    writeHtml(html, results);
    process.stdout.write(`HTML report: ${html}\n`);
  }
  return exitCode;
}
