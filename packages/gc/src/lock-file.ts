/**
 * Lock files with the store's protocol (path-lock.ts: a file holding the owner's pid;
 * a lock whose owner is dead is stale and may be taken over), created in one step: the
 * pid is written to a private file first, which is then hard-linked to the lock's name.
 * `link` fails if the name exists, like O_EXCL, but a lock file can never be seen empty:
 * with open-then-write, a process killed in between leaves an empty lock that every
 * reader must treat as "being written" for ever. It is also cheaper (no inode to create
 * per lock), which matters for the collector, which locks every path it deletes.
 *
 * An empty lock file (left by an open-then-write locker that died) counts as stale once
 * it is older than EMPTY_STALE_MS.
 */
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const EMPTY_STALE_MS = 10_000;

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

/** True when the lock at `lockFile` is held by a live process. */
export function lockHeld(lockFile: string): boolean {
  let text: string;
  try {
    text = readFileSync(lockFile, "utf8");
  } catch {
    return false;
  }
  const pid = Number.parseInt(text, 10);
  if (Number.isInteger(pid) && pid > 0) return processAlive(pid);
  try {
    return Date.now() - statSync(lockFile).mtimeMs < EMPTY_STALE_MS;
  } catch {
    return false;
  }
}

/** Moves a stale lock out of the way (only one contender can win the rename). */
function takeOver(lockFile: string): void {
  const aside = `${lockFile}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(lockFile, aside);
    unlinkSync(aside);
  } catch {
    // Someone else took it over first.
  }
}

/**
 * Takes many locks cheaply: every lock is a hard link to one pid file of this process,
 * kept beside the locks (links cannot cross file systems).
 */
export class LinkLocker {
  readonly #pidFile: string;

  /** `pidFile` must be on the same file system as the locks, e.g. in the same directory. */
  constructor(pidFile: string) {
    this.#pidFile = pidFile;
    writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  }

  /** Takes `lockFile` if it is free (or stale); false when a live process holds it. */
  tryLock(lockFile: string): boolean {
    for (;;) {
      try {
        linkSync(this.#pidFile, lockFile);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      if (lockHeld(lockFile)) return false;
      takeOver(lockFile);
    }
  }

  unlock(lockFile: string): void {
    try {
      unlinkSync(lockFile);
    } catch {
      // Already gone (cleared by verify): nothing to release.
    }
  }

  /** Removes the pid file (after every lock is released). */
  close(): void {
    try {
      unlinkSync(this.#pidFile);
    } catch {
      // Already gone.
    }
  }
}

export interface HeldLock {
  release(): void;
}

/**
 * Takes one lock, waiting for it unless `wait` is false (then undefined when it is held).
 * @example const lock = await acquireLockFile("/var/kiln/gc.lock"); … lock.release();
 */
export async function acquireLockFile(
  lockFile: string,
  options: { wait?: boolean } = {},
): Promise<HeldLock | undefined> {
  const locker = new LinkLocker(
    `${lockFile}.${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  try {
    let delay = 2;
    while (!locker.tryLock(lockFile)) {
      if (options.wait === false) return undefined;
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    locker.close();
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        unlinkSync(lockFile);
      } catch {
        // Already gone.
      }
    },
  };
}
