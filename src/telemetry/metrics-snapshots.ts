/**
 * Prometheus across the worker's processes. LiveKit Agents forks a process per call, and each has
 * its own registry: each writes it as JSON into a folder (every few seconds and at shutdown), and
 * the main process merges every file with its own registry when scraped, with prom-client's
 * aggregator (counters and histogram buckets add up). Files of processes that have ended are
 * folded into one `retired.json`, so the folder stays small however many calls the worker takes.
 */
import { readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** Set by the main process before it forks job processes: where they write their snapshots. */
export const SNAPSHOT_DIR_ENV = 'VOICE_AGENT_METRICS_DIR';

const SNAPSHOT_EVERY_MS = 5000;
const RETIRED = 'retired.json';
const FILE_RE = /^(\d+)\.json$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A job process's side: its registry into `<dir>/<pid>.json`, replaced atomically each time. */
export class SnapshotWriter {
  readonly #dir: string;
  readonly #registry: Registry;
  readonly #timer: NodeJS.Timeout;

  constructor(dir: string, registry: Registry) {
    this.#dir = dir;
    this.#registry = registry;
    this.#timer = setInterval(() => void this.write().catch(() => undefined), SNAPSHOT_EVERY_MS);
    this.#timer.unref();
  }

  async write(): Promise<void> {
    const path = join(this.#dir, `${process.pid}.json`);
    await writeFile(`${path}.tmp`, JSON.stringify(await this.#registry.getMetricsAsJSON()));
    await rename(`${path}.tmp`, path);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function readJson(path: string): Promise<object[] | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as object[];
  } catch {
    // Gone meanwhile, or half a file from a process killed mid-write: skipped this time.
    return undefined;
  }
}

/** The main process's side: its own registry plus every snapshot in `dir`, as Prometheus text. */
export async function mergedMetrics(dir: string, own: Registry): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const live: object[][] = [];
  const ended: { name: string; metrics: object[] }[] = [];
  for (const name of names) {
    const m = FILE_RE.exec(name);
    if (!m) continue;
    const metrics = await readJson(join(dir, name));
    if (!metrics) continue;
    if (alive(Number(m[1]))) live.push(metrics);
    else ended.push({ name, metrics });
  }
  let retired = await readJson(join(dir, RETIRED));
  if (ended.length > 0) {
    retired = await AggregatorRegistry.aggregate([
      ...(retired ? [retired] : []),
      ...ended.map((e) => e.metrics),
    ]).getMetricsAsJSON();
    await writeFile(join(dir, `${RETIRED}.tmp`), JSON.stringify(retired));
    await rename(join(dir, `${RETIRED}.tmp`), join(dir, RETIRED));
    await Promise.all(ended.map((e) => unlink(join(dir, e.name)).catch(() => undefined)));
  }
  const all = [await own.getMetricsAsJSON(), ...live, ...(retired ? [retired] : [])];
  return AggregatorRegistry.aggregate(all).metrics();
}
