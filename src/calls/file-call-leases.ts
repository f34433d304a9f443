/**
 * Call leases as files, for the workers of one machine (the file journal's scope): one file per
 * room in `<MEMORY_JOURNAL_DIR>/calls`, whose modification time the serving job renews. A claimer
 * takes a lapsed file by renaming it (atomic: one claimer wins).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.ts';
import { type CallHold, type CallLeases, type CallRecord, parseCall, renewEvery } from './call-leases.ts';

const SUFFIX = '.call.json';

export class FileCallLeases implements CallLeases {
  readonly leaseMs: number;
  /** Renewal timers of the holds of this process: closing stops them (the leases then lapse). */
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #dir: string;
  readonly #logger: Logger;

  constructor(o: { dir: string; leaseMs: number; logger: Logger }) {
    this.leaseMs = o.leaseMs;
    this.#dir = o.dir;
    this.#logger = o.logger;
  }

  hold(call: CallRecord): CallHold {
    const path = this.#path(call.room);
    let stopped = false;
    const write = async (record: CallRecord) => {
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(record));
      await rename(tmp, path);
    };
    const started = mkdir(this.#dir, { recursive: true })
      .then(() => write(call))
      .catch((err: unknown) => this.#logger.warn({ err: (err as Error).message }, 'could not record the call lease'));
    let updates: Promise<unknown> = started;
    const timer = setInterval(() => {
      void started.then(async () => {
        if (stopped) return;
        // A file gone or another job's: this call was taken over; never bring it back.
        if ((await this.#read(path))?.job !== call.job) return;
        const now = new Date();
        await utimes(path, now, now).catch(() => undefined);
      });
    }, renewEvery(this.leaseMs));
    timer.unref();
    this.#timers.add(timer);
    return {
      update: (openTurn) => {
        updates = updates
          .then(async () => {
            if (stopped || (await this.#read(path))?.job !== call.job) return;
            await write({ ...call, ...(openTurn ? { openTurn } : {}) });
          })
          .catch(() => undefined);
      },
      end: async () => {
        stopped = true;
        clearInterval(timer);
        this.#timers.delete(timer);
        await updates;
        if ((await this.#read(path))?.job === call.job) await unlink(path).catch(() => undefined);
      },
    };
  }

  async lapsed(): Promise<CallRecord[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    const out: CallRecord[] = [];
    for (const name of names.filter((n) => n.endsWith(SUFFIX))) {
      const path = join(this.#dir, name);
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age < this.leaseMs) continue;
      const call = await this.#read(path);
      if (call) out.push(call);
    }
    return out;
  }

  async claim(call: CallRecord): Promise<boolean> {
    const path = this.#path(call.room);
    const taken = `${path}.claimed-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, taken);
    } catch {
      return false;
    }
    const [held, age] = await Promise.all([this.#read(taken), stat(taken).then((s) => Date.now() - s.mtimeMs)]);
    // Between looking and renaming, the lease was renewed or became a new call's: put it back.
    if (held?.job !== call.job || age < this.leaseMs) {
      await rename(taken, path).catch(() => undefined);
      return false;
    }
    await unlink(taken).catch(() => undefined);
    return true;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
  }

  #path(room: string): string {
    return join(this.#dir, `${encodeURIComponent(room)}${SUFFIX}`);
  }

  async #read(path: string): Promise<CallRecord | null> {
    return parseCall(await readFile(path, 'utf8').catch(() => null));
  }
}
