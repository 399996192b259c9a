/**
 * Lock files with the store's protocol (path-lock.ts: a file holding the owner's pid;
 * a lock whose owner is dead is stale and may be taken over), created in one step: the
 * pid is written to a private file first, which is then hard-linked to the lock's name.
 * `link` fails if the name exists, like O_EXCL, but a lock file can never be seen empty:
 * with open-then-write, a process killed in between leaves an empty lock that every
 * reader must treat as "being written" for ever. It is also cheaper (no inode to create
 * per lock), which matters for the collector, which locks every path it deletes.
 *
 * Whether a lock is held, and taking over a stale one, are the store's rules
 * (@kiln/store/path-lock), shared so both kinds of lock read each other the same way.
 */
import { linkSync, unlinkSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { lockHeld, processAlive, takeOverStaleLock } from "@kiln/store/path-lock";

export { lockHeld, processAlive };

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
      takeOverStaleLock(lockFile);
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
