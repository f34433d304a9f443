/**
 * The bench’s command line: its verbs and options, their defaults (the quick headline run and
 * `--full`), the usage text, and the parsing that turns argv into a checked command.
 */
import { parseArgs } from 'node:util';
import { getProfile, profiles } from '../sim/index.ts';
import { lettaServerVersion } from './letta-server-backend.ts';
import { benchReadme } from './report/readme.ts';
import { type JournalKind, type LettaKind, type ScenarioName, scenarioNames } from './results.ts';
import type { RoomVariant } from './room-results.ts';
import { parseRoomVariants } from './room-variants.ts';
import { defaultLoadScenarioOptions } from './scenarios/load.ts';
import { defaultRoomScenarioOptions } from './scenarios/room.ts';
import { defaultVoiceSettings, resolveVoiceSettings } from './voice-settings.ts';

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
