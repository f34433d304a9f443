/**
 * Journal files: one JSONL file per writer process, named `<startedAtMs>-<pid>-<rand>.jsonl`, so
 * each file has a single appender (no cross-process append races) and its owner can be recognised.
 * Every append is fdatasynced before it resolves.
 *
 * An owner is gone when its pid is not alive, or when the file is older than the staleness bound
 * (pids are reused after a container restart; a live owner refreshes its file's mtime). A
 * replayer claims an orphan by renaming it to a name of its own: `rename` is atomic, so two
 * replayers never both take one file, and the claimed file is then an ordinary journal of the
 * claimer (its acks go there; if the claimer dies too, the file is an orphan again).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../telemetry/logger.ts';
import type { Turn } from '../turn.ts';
import {
  type FilePending,
  type JournalRecord,
  JournalState,
  type ParsedJournal,
  parseJournal,
  reportProblems,
} from './file-format.ts';

export interface JournalOptions {
  logger?: Logger;
  /** A file untouched for this long has no live owner, whatever its pid says. */
  staleMs?: number;
  /** Rewrite a file once it has more lines than this and `compactDoneRatio` of them are done. */
  compactMinLines?: number;
  compactDoneRatio?: number;
}

export const defaultJournalOptions = {
  /** Far longer than any event-loop stall; an idle owner refreshes its mtime every third of it. */
  staleMs: 10 * 60_000,
  compactMinLines: 50,
  compactDoneRatio: 0.75,
} as const;

const FILE_RE = /^(\d+)-(\d+)-([0-9a-z]+)\.jsonl$/;
const TMP_RE = /^\.(\d+-(\d+)-[0-9a-z]+\.jsonl)\.tmp$/;

/** Paths held by journals of this process: never orphans while held. */
const held = new Set<string>();

function newFileName(): string {
  return `${Date.now()}-${process.pid}-${randomBytes(6).toString('hex')}.jsonl`;
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

interface Waiter {
  record: JournalRecord;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** One journal file, appended only by this process. */
export class JournalFile {
  readonly dir: string;
  readonly path: string;
  readonly #opts: Required<Omit<JournalOptions, 'logger'>>;
  readonly #logger: Logger | undefined;
  #state = new JournalState();
  #fh: FileHandle | null = null;
  #size = 0;
  #queue: Waiter[] = [];
  #draining: Promise<void> | null = null;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(dir: string, name: string, opts: JournalOptions) {
    this.dir = resolve(dir);
    this.path = join(this.dir, name);
    this.#logger = opts.logger;
    this.#opts = {
      staleMs: opts.staleMs ?? defaultJournalOptions.staleMs,
      compactMinLines: opts.compactMinLines ?? defaultJournalOptions.compactMinLines,
      compactDoneRatio: opts.compactDoneRatio ?? defaultJournalOptions.compactDoneRatio,
    };
    held.add(this.path);
  }

  /** A new journal for this process. The directory and file appear with the first append. */
  static create(dir: string, opts: JournalOptions = {}): JournalFile {
    return new JournalFile(dir, newFileName(), opts);
  }

  /** Takes over a file this process has just renamed to its own name. */
  static async adopt(dir: string, name: string, parsed: ParsedJournal, opts: JournalOptions): Promise<JournalFile> {
    const j = new JournalFile(dir, name, opts);
    for (const r of parsed.records) j.#state.apply(r);
    await j.#open();
    // Appending after a torn line would glue the next record onto it.
    if (j.#size > parsed.validBytes && j.#fh) {
      await j.#fh.truncate(parsed.validBytes);
      await j.#fh.datasync();
      j.#size = parsed.validBytes;
    }
    return j;
  }

  /** Appends one record; resolves once it is on disk. Concurrent appends share one fdatasync. */
  append(record: JournalRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  pending(): FilePending {
    return this.#state.pending();
  }

  get pendingLines(): number {
    return this.#state.pendingLines;
  }

  /** Waits for queued appends, then releases the file (it stays on disk if anything is pending). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#draining) await this.#draining;
    clearInterval(this.#heartbeat);
    await this.#fh?.close();
    this.#fh = null;
    held.delete(this.path);
  }

  async #open(): Promise<FileHandle> {
    if (this.#fh) return this.#fh;
    await mkdir(this.dir, { recursive: true });
    const fh = await open(this.path, 'a');
    this.#fh = fh;
    this.#size = (await fh.stat()).size;
    await syncDir(this.dir);
    if (!this.#heartbeat) {
      this.#heartbeat = setInterval(() => {
        const now = new Date();
        this.#fh?.utimes(now, now).catch(() => undefined);
      }, this.#opts.staleMs / 3);
      this.#heartbeat.unref();
    }
    return fh;
  }

  async #drain(): Promise<void> {
    try {
      await this.#drainQueue();
    } finally {
      this.#draining = null;
    }
    // Callers resumed by the last resolve may have appended before the flag was cleared.
    if (this.#queue.length > 0) this.#draining = this.#drain();
  }

  async #drainQueue(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      const text = batch.map((w) => `${JSON.stringify(w.record)}\n`).join('');
      let fh: FileHandle | undefined;
      try {
        fh = await this.#open();
        await fh.appendFile(text);
        await fh.datasync();
        this.#size += Buffer.byteLength(text);
      } catch (err) {
        // A partial write would corrupt the line after it: cut back to the last good byte.
        await fh?.truncate(this.#size).catch(() => undefined);
        for (const w of batch) w.reject(err);
        continue;
      }
      for (const w of batch) this.#state.apply(w.record);
      await this.#compact().catch((err: unknown) =>
        this.#logger?.warn({ event: 'journal_compact_failed', file: this.path, err }, 'journal: compaction failed'),
      );
      for (const w of batch) w.resolve();
    }
  }

  async #compact(): Promise<void> {
    const total = this.#state.records.length;
    const pending = this.#state.pendingLines;
    if (total > 0 && pending === 0) {
      await this.#fh?.close();
      this.#fh = null;
      await unlink(this.path);
      await syncDir(this.dir);
      this.#state = new JournalState();
      return;
    }
    const done = total - pending;
    if (total <= this.#opts.compactMinLines || done / total <= this.#opts.compactDoneRatio) return;
    const keep = this.#state.pendingRecords();
    const tmp = join(this.dir, `.${this.path.slice(this.dir.length + 1)}.tmp`);
    const out = await open(tmp, 'w');
    try {
      await out.writeFile(keep.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await out.datasync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.path);
    await this.#fh?.close();
    this.#fh = null;
    const state = new JournalState();
    for (const r of keep) state.apply(r);
    this.#state = state;
    await this.#open();
  }
}

function pidAlive(pid: number): boolean {
  // 0 and negatives address process groups, not a process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerGone(pid: number, startedAt: number, mtimeMs: number, staleMs: number): boolean {
  // Our own pid on a file we do not hold: left by an earlier boot (containers reuse low pids).
  if (pid === process.pid) return true;
  if (!pidAlive(pid)) return true;
  return Date.now() - Math.max(startedAt, mtimeMs) > staleMs;
}

export interface ClaimedFile {
  /** The claimed file, now a journal of this process: record acks for its batches here. */
  file: JournalFile;
  /** The file's name before the claim. */
  from: string;
  pending: FilePending;
}

/**
 * Claims every journal file in `dir` whose owner is gone and returns its pending work, oldest
 * file first. Fully finished files are deleted on the way; leftover rewrite temp files of dead
 * owners too.
 */
export async function claimOrphanFiles(dir: string, opts: JournalOptions = {}): Promise<ClaimedFile[]> {
  const staleMs = opts.staleMs ?? defaultJournalOptions.staleMs;
  const root = resolve(dir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const claimed: ClaimedFile[] = [];
  const files = names
    .flatMap((name) => {
      const m = FILE_RE.exec(name);
      return m ? [{ name, startedAt: Number(m[1]), pid: Number(m[2]) }] : [];
    })
    .sort((a, b) => a.startedAt - b.startedAt || a.name.localeCompare(b.name));
  for (const f of files) {
    const path = join(root, f.name);
    if (held.has(path)) continue;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      continue;
    }
    if (!ownerGone(f.pid, f.startedAt, mtimeMs, staleMs)) continue;
    const name = newFileName();
    const target = join(root, name);
    held.add(target);
    try {
      await rename(path, target);
    } catch (err) {
      held.delete(target);
      // Another replayer was first.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    await syncDir(root);
    const parsed = parseJournal(await readFile(target, 'utf8'));
    reportProblems(f.name, parsed, opts.logger, 'warn');
    const file = await JournalFile.adopt(root, name, parsed, opts);
    if (file.pendingLines === 0) {
      await file.close();
      await unlink(target);
      continue;
    }
    claimed.push({ file, from: f.name, pending: file.pending() });
  }
  for (const name of names) {
    const m = TMP_RE.exec(name);
    if (!m || held.has(join(root, m[1] ?? ''))) continue;
    if (ownerGone(Number(m[2]), 0, 0, Number.POSITIVE_INFINITY)) await unlink(join(root, name)).catch(() => undefined);
  }
  return claimed;
}

/**
 * Every turn for one Letta agent that no journal file has seen acknowledged (or dead), across all
 * files in `dir`, oldest first. Synchronous: meant for session start over a small directory.
 */
export function pendingTurnsIn(dir: string, agentId: string, logger?: Logger): Turn[] {
  return allPendingTurns(dir, logger).filter((t) => t.agentId === agentId);
}

/** Every turn no journal file in `dir` has seen acknowledged (or dead), oldest first. */
export function allPendingTurns(dir: string, logger?: Logger): Turn[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Turn[] = [];
  for (const name of names) {
    if (!FILE_RE.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      // Deleted by its owner's compaction meanwhile.
      continue;
    }
    const parsed = parseJournal(text);
    // A live owner may be mid-append: an incomplete last line is normal here.
    reportProblems(name, parsed, logger, 'debug');
    const state = new JournalState();
    for (const r of parsed.records) state.apply(r);
    const p = state.pending();
    out.push(...p.batches.flatMap((b) => b.turns), ...p.turns);
  }
  return out.sort((a, b) => a.userAt - b.userAt || a.finishedAt - b.finishedAt);
}
