/**
 * The worker and its job entry as single files (esbuild), so that a job process loads one file
 * instead of resolving and reading the thousands of modules of the agents framework, its plugins
 * and their dependencies: that loading is most of a job process's start, and a burst of calls
 * waits for job processes to start one after another.
 *
 * The framework forks its job and inference processes from files next to its own code
 * (`./job_proc_lazy_main.js`, `./inference_proc_lazy_main.js`, `./inference/eot/runner.js`
 * relative to the module that forks), so in the bundled worker those paths are next to the
 * worker's bundle:
 * - `job_proc_lazy_main.js` is the framework's job process main and src/agent.ts in one file, and
 *   is also the agent module the worker names: the job main imports it by path, gets itself, and
 *   the job process holds one copy of the framework (two would mean two loggers, one never set up).
 * - the inference process (one per worker, not on a call's path) runs from node_modules as before,
 *   through two one-line files.
 * Native packages stay outside the bundles and resolve from the project's node_modules, which is
 * why the bundles are written inside the project (`.cache/worker-bundle/`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../telemetry/logger.ts';

export interface WorkerBundle {
  /** The bundled src/worker/run-worker.ts, as a file URL to import. */
  worker: string;
  /** The job module the worker names (ServerOptions.agent), a path. */
  job: string;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const bundleDir = join(projectRoot, '.cache', 'worker-bundle');

/** Packages with native code or files found next to their own code: loaded from node_modules. */
const external = [
  '*.node',
  '@livekit/rtc-node',
  '@livekit/rtc-ffi-bindings',
  'onnxruntime-node',
  '@livekit/local-inference',
  'fluent-ffmpeg',
  '@ffmpeg-installer/ffmpeg',
];

/** CommonJS dependencies in an ES module bundle still ask for require and __dirname. */
const banner = [
  "import { createRequire as __bundleRequire } from 'node:module';",
  "import { fileURLToPath as __bundlePath } from 'node:url';",
  "import { dirname as __bundleDir } from 'node:path';",
  'const require = __bundleRequire(import.meta.url);',
  'const __filename = __bundlePath(import.meta.url);',
  'const __dirname = __bundleDir(__filename);',
].join(' ');

/** Writes a file whole or not at all: two workers starting at once may build the same bundle. */
function writeAtomically(path: string, contents: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** What the bundles are built from: every file under src/ and the lockfile (the dependencies' versions). */
function sourceStamp(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(projectRoot, 'src'));
  hash.update(readFileSync(join(projectRoot, 'package-lock.json')));
  return hash.digest('hex');
}

const stampFile = join(bundleDir, 'stamp.txt');
const built: WorkerBundle = {
  worker: pathToFileURL(join(bundleDir, 'main.js')).href,
  job: join(bundleDir, 'job_proc_lazy_main.js'),
};

/**
 * The bundles of the current sources: reused when already built from them (an image builds them at
 * build time, where esbuild is installed), else built now; null (logged, with why) when neither
 * can be: the worker then runs from src/.
 */
export async function buildWorkerBundle(logger: Logger): Promise<WorkerBundle | null> {
  const started = performance.now();
  const stamp = sourceStamp();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    logger.info({ dir: bundleDir }, 'worker bundle up to date');
    return built;
  }
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    logger.info(
      'worker bundle off: esbuild is not installed (npm ci without --omit=dev installs it) and no bundle of these sources was built; running from src/',
    );
    return null;
  }
  try {
    const agentsDist = dirname(fileURLToPath(import.meta.resolve('@livekit/agents')));
    const sileroDist = dirname(fileURLToPath(import.meta.resolve('@livekit/agents-plugin-silero')));
    const common = {
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      external,
      banner: { js: banner },
      logLevel: 'silent',
      write: false,
      absWorkingDir: projectRoot,
    } as const;
    const [worker, job] = await Promise.all([
      esbuild.build({ ...common, entryPoints: [join(projectRoot, 'src/worker/run-worker.ts')], outfile: 'main.js' }),
      esbuild.build({
        ...common,
        stdin: {
          contents: [
            `import ${JSON.stringify(join(agentsDist, 'ipc/job_proc_lazy_main.js'))};`,
            `export { default } from ${JSON.stringify(join(projectRoot, 'src/agent.ts'))};`,
          ].join('\n'),
          resolveDir: projectRoot,
          loader: 'ts',
        },
        outfile: 'job_proc_lazy_main.js',
      }),
    ]);
    const only = (r: { outputFiles: { contents: Uint8Array }[] }) => {
      const file = r.outputFiles[0];
      if (!file) throw new Error('esbuild wrote nothing');
      return file.contents;
    };
    writeAtomically(join(bundleDir, 'main.js'), only(worker));
    writeAtomically(join(bundleDir, 'job_proc_lazy_main.js'), only(job));
    const fromAgents = (path: string) => JSON.stringify(pathToFileURL(join(agentsDist, path)).href);
    writeAtomically(
      join(bundleDir, 'inference_proc_lazy_main.js'),
      `import ${fromAgents('ipc/inference_proc_lazy_main.js')};\n`,
    );
    writeAtomically(
      join(bundleDir, 'inference/eot/runner.js'),
      `export { default } from ${fromAgents('inference/eot/runner.js')};\n`,
    );
    // Silero finds its model next to its code: next to the job bundle now.
    writeAtomically(join(bundleDir, 'silero_vad.onnx'), readFileSync(join(sileroDist, 'silero_vad.onnx')));
    // Last: a stamp names only bundles written whole.
    writeAtomically(stampFile, stamp);
    logger.info({ ms: Math.round(performance.now() - started), dir: bundleDir }, 'worker bundle built');
    return built;
  } catch (err) {
    logger.warn({ err }, 'worker bundle could not be built; running from src/');
    return null;
  }
}
