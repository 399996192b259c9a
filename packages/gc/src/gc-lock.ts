/**
 * The collector's global lock: one collection (or `--optimize`) at a time.
 */
import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { GcError } from "./gc-error.ts";
import { acquireLockFile, type HeldLock, processAlive } from "./lock-file.ts";

/**
 * Takes the global GC lock (`gc.lock` in the state directory). With `wait: false`, a
 * running collector is an error.
 * @example const lock = await acquireGcLock(gcLayout(config).gcLock); try { … } finally { lock.release(); }
 */
export async function acquireGcLock(
  lockFile: string,
  options: { wait?: boolean } = {},
): Promise<HeldLock> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const lock = await acquireLockFile(lockFile, { wait: options.wait ?? true });
  if (!lock) {
    throw new GcError("BUSY", "another garbage collection is running", {
      hint: "wait for it to finish",
    });
  }
  removeDeadPidFiles(dirname(lockFile));
  return lock;
}

/**
 * acquireLockFile writes `<lock>.<pid>-<random>` before linking it into place; a process
 * killed in between leaves that file. Those of dead processes go (under the GC lock).
 */
function removeDeadPidFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    const match = /^(.+\.lock)\.([0-9]+)-[0-9a-z]+$/.exec(name);
    if (!match || processAlive(Number(match[2]))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // Gone already.
    }
  }
}
