/**
 * `npm run bench`: a few verbs over stored results.
 *
 *   run (default)     run the scenarios, print the tables, write the results file and the HTML report
 *   report FILE       print the tables of a stored results file again and re-render its HTML report
 *   readme [FILE]     put a results file's tables into bench/README.md, between the bench markers
 */
import { existsSync } from 'node:fs';
import { initializeLogger } from '@livekit/agents';
import { loadConfigOrExit } from '../src/config.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { type Backend, liveBackend, simBackend } from './backend.ts';
import { type Progress, silentProgress, terminalProgress } from './progress.ts';
import { writeHtml } from './report/html.ts';
import { updateReadme } from './report/readme.ts';
import { renderReport } from './report/tables.ts';
import {
  type BenchResults,
  type ScenarioName,
  defaultResultsPath,
  defaultScenarios,
  machineInfo,
  newestResults,
  readResults,
  resultsFormat,
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
import { getProfile, nowMs } from '../sim/index.ts';
import { SpeechResources } from './voice-settings.ts';
import { type Command, type RunOptions, parseCommand, usage } from './command.ts';

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
