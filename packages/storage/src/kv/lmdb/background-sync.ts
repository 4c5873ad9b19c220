// The LMDB state machine's "background" durability mode, for a state machine whose Raft log is
// the source of truth (the engine's default: DESIGN.md, "the log is the truth").
//
// Why: a synced LMDB commit costs two fdatasyncs (data, then meta page) on the event loop for
// every applied batch: about 20% of each node's wall time in the write benchmark
// (docs/benchmarks.md). The log already made every applied entry durable before it was applied,
// so the state machine only needs to be durable eventually: a restart applies the log again from
// the state machine's applied index, and a state machine behind the newest snapshot is restored
// from it first.
//
// What can go wrong, and the answer to each:
// - The process dies (crash, SIGKILL, OOM): LMDB's committed pages are in the OS page cache, the
//   kernel writes them out; nothing is lost, nothing is torn.
// - The machine dies (power, kernel panic) before a flush: the state machine may be behind the log
//   (replay catches it up) or, because MDB_NOSYNC lets the kernel write pages in any order, its
//   file may be torn. A torn file cannot be detected reliably, so it is never trusted: while the
//   environment is open unsynced it carries a mark naming the boot it was opened in, and a clean
//   close (after a final flush) removes the mark. Opening finds the mark from another boot →
//   `lmdbStateMayBeTorn` says so, and the engine discards the state machine and rebuilds it from
//   the newest snapshot and the log (which hold everything: the log is only compacted behind a
//   durable snapshot).
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

const MARK = "unsynced-boot-id";
const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";

/** This boot's id (Linux); "unknown" elsewhere, which never matches a mark (always rebuild). */
export function currentBootId(): string {
  try {
    return readFileSync(BOOT_ID_FILE, "utf8").trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** Writes the unsynced mark (durably) before the environment takes its first unsynced write. */
export function markUnsynced(path: string, bootId = currentBootId()): void {
  mkdirSync(path, { recursive: true });
  const fd = openSync(join(path, MARK), "w");
  try {
    writeSync(fd, bootId);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(path);
}

function fsyncDir(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Why the LMDB state machine at `path` must not be trusted, or undefined if it may: it was open
 * unsynced and not closed cleanly during another boot (or the boot cannot be told).
 */
export function lmdbStateMayBeTorn(path: string, bootId = currentBootId()): string | undefined {
  let marked: string;
  try {
    marked = readFileSync(join(path, MARK), "utf8").trim();
  } catch {
    return undefined; // closed cleanly, or never opened unsynced
  }
  if (marked === bootId && bootId !== "unknown") return undefined; // only the process died
  return `the state machine in ${path} was written without fsync and not closed cleanly before the machine restarted (boot ${marked || "?"}, now ${bootId}): its file may be torn`;
}

/** Flushes the environment at most `intervalMs` after a write, off the event loop. */
export class BackgroundSync {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly intervalMs: number,
    /** lmdb-js's env sync: runs mdb_env_sync on a worker thread and calls back. */
    private readonly sync: (done: (error?: unknown) => void) => void,
  ) {}

  /** A transaction was committed without a flush. */
  wrote(): void {
    this.dirty = true;
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.intervalMs);
    // A pending flush must not keep the process alive (close() flushes).
    this.timer.unref();
  }

  /** Resolves once everything committed before the call is on disk. */
  async flush(): Promise<void> {
    // A flush already running may have started before the caller's last commit: wait, then run.
    while (this.running) await this.running;
    if (!this.dirty) return;
    this.dirty = false;
    this.running = new Promise<void>((resolve, reject) => {
      this.sync((error) => {
        this.running = undefined;
        if (error) {
          this.dirty = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        } else resolve();
      });
    });
    return this.running;
  }

  /** Stops the timer and flushes what is left. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** After the final flush and close: the files are whole, drop the mark. */
  markClean(): void {
    rmSync(join(this.path, MARK), { force: true });
    fsyncDir(this.path);
  }
}
