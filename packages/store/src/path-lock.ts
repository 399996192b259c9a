/**
 * Locks on store paths, so concurrent processes never build, add or delete the same path
 * at once. Node has no flock(), so a lock is a file created with O_EXCL holding the
 * owner's pid. A lock whose owner has died (kill -9) is stale: the next process takes it
 * over by renaming it away first, which only one contender can win. Within one process,
 * an in-memory queue serialises holders before they touch the file system.
 *
 * Known limit: a pid reused by an unrelated process keeps a stale lock alive until that
 * process exits; store locks are short-lived, and `kiln store verify` clears leftovers.
 */
import { close, open, readFileSync, renameSync, statSync, unlinkSync, write } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { StoreError } from "./store-error.ts";

const inProcess = new Map<string, Promise<void>>();

/** How long an empty lock file may stay empty before its writer is presumed dead. */
const EMPTY_LOCK_GRACE_MS = 10_000;

export interface PathLock {
  readonly lockFile: string;
  release(): void;
}

/** True when a process with this pid exists (one we may not signal still exists). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when the lock file is held by a live process. An empty file is a lock being
 * written right now (created, pid not yet written); one that stays empty belongs to a
 * process killed in between, so after a grace period it is stale. Anything else that is
 * not a pid is stale.
 */
export function lockHeld(lockFile: string): boolean {
  let text: string;
  try {
    text = readFileSync(lockFile, "utf8");
  } catch {
    return false;
  }
  const pid = Number.parseInt(text, 10);
  if (Number.isInteger(pid) && pid > 0) return processAlive(pid);
  if (text !== "") return false;
  try {
    return Date.now() - statSync(lockFile).mtimeMs < EMPTY_LOCK_GRACE_MS;
  } catch {
    return false;
  }
}

/** Moves a stale lock out of the way and deletes it (only one contender wins the rename). */
export function takeOverStaleLock(lockFile: string): void {
  const aside = `${lockFile}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(lockFile, aside);
    unlinkSync(aside);
  } catch {
    // Someone else took it over first.
  }
}

/**
 * Creates the lock file with our pid in it; false when it exists. On the thread pool:
 * creating a file costs a journal write (~0.2–0.5 ms here) that this thread need not wait
 * for, and a build takes several locks.
 */
function tryCreate(lockFile: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    open(lockFile, "wx", 0o600, (error, fd) => {
      if (error) {
        if (error.code === "EEXIST") resolve(false);
        else reject(error);
        return;
      }
      write(fd, `${process.pid}\n`, (writeError) => {
        close(fd, (closeError) => {
          const failure = writeError ?? closeError;
          if (failure) reject(failure);
          else resolve(true);
        });
      });
    });
  });
}

/**
 * Acquires the lock file `lockFile` (conventionally `<real store path>.lock`), waiting
 * for other holders. With `wait: false`, returns undefined when it is held elsewhere.
 */
export async function acquirePathLock(
  lockFile: string,
  options: { wait?: boolean; signal?: AbortSignal } = {},
): Promise<PathLock | undefined> {
  const wait = options.wait ?? true;
  // Serialise holders inside this process first.
  while (inProcess.has(lockFile)) {
    if (!wait) return undefined;
    await inProcess.get(lockFile);
  }
  let releaseInProcess!: () => void;
  inProcess.set(
    lockFile,
    new Promise<void>((resolve) => {
      releaseInProcess = resolve;
    }),
  );
  const giveUp = () => {
    inProcess.delete(lockFile);
    releaseInProcess();
  };
  try {
    let delay = 2;
    while (!(await tryCreate(lockFile))) {
      if (!lockHeld(lockFile)) {
        takeOverStaleLock(lockFile);
        continue;
      }
      if (!wait) {
        giveUp();
        return undefined;
      }
      if (options.signal?.aborted)
        throw new StoreError("LOCK_ABORTED", `gave up waiting for the lock ${lockFile}`);
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  } catch (error) {
    giveUp();
    throw error;
  }
  let released = false;
  return {
    lockFile,
    release() {
      if (released) return;
      released = true;
      // Synchronously: when an operation returns, its lock files are gone.
      try {
        unlinkSync(lockFile);
      } catch {
        // Already gone (e.g. cleared by verify); nothing to do.
      }
      giveUp();
    },
  };
}

/** Acquires several locks in sorted order (a fixed order avoids deadlocks between holders). */
export async function acquirePathLocks(lockFiles: readonly string[]): Promise<PathLock[]> {
  const locks: PathLock[] = [];
  try {
    for (const file of [...new Set(lockFiles)].sort())
      locks.push((await acquirePathLock(file)) as PathLock);
  } catch (error) {
    for (const lock of locks) lock.release();
    throw error;
  }
  return locks;
}
