/**
 * After a full collection, what the database does not account for: entries in the real
 * store directory that are not valid paths (a crash between unregistering and renaming,
 * an interrupted add), temporary copies of adds that died, and `.links` entries no file
 * uses any more. Anything locked by a live process is left alone: it is being written.
 */
import { lstatSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { isStorePath } from "@kiln/formats/store-path";
import type { StoreConfig } from "@kiln/store/store-config";
import { LinkLocker, processAlive } from "./lock-file.ts";
import { removeCounting } from "./remove-counting.ts";

/** Temporary names of the store (local-store.ts): `<base>.kiln-new-<hex>`, `<base>.tmp-<hex>`, `<base>.check`. */
const TEMPORARY = /^(.+)\.(kiln-new-[0-9a-f]+|tmp-[0-9a-f]+|check)$/;

export interface SweepResult {
  /** Real file names removed. */
  readonly removed: string[];
  readonly bytesFreed: number;
}

/**
 * Removes unregistered entries and unused links. `isValid` answers from the database.
 * @example sweepStoreDirectory(store.config, (path) => store.isValidPath(path))
 */
export function sweepStoreDirectory(
  config: Pick<StoreConfig, "storeDir" | "realStoreDir">,
  isValid: (path: string) => boolean,
  linksDir?: string,
): SweepResult {
  const removed: string[] = [];
  let bytesFreed = 0;
  const locker = new LinkLocker(join(config.realStoreDir, `.kiln-gc-sweep-${process.pid}`));
  try {
    for (const name of readdirSync(config.realStoreDir)) {
      // The pid file of a collector that died (its locks are stale by the same token).
      const gcPid = /^\.kiln-gc-(?:sweep-)?([0-9]+)$/.exec(name);
      if (gcPid && !processAlive(Number(gcPid[1]))) {
        unlinkSync(join(config.realStoreDir, name));
        continue;
      }
      if (name.startsWith(".") || name.endsWith(".lock")) continue;
      const temporary = TEMPORARY.exec(name);
      // An import restores into `import.kiln-new-…` before it knows the path, under no
      // lock: it cannot be told from a dead one, so it is left for verify.
      const owner = temporary ? temporary[1] : name;
      if (owner === "import") continue;
      const ownerPath = `${config.storeDir}/${owner}`;
      if (!isStorePath(ownerPath, config.storeDir)) continue; // not ours
      if (!temporary && isValid(ownerPath)) continue;
      const lock = join(config.realStoreDir, `${owner}.lock`);
      if (!locker.tryLock(lock)) continue; // being written right now
      try {
        if (!temporary && isValid(ownerPath)) continue; // registered meanwhile
        const real = join(config.realStoreDir, name);
        bytesFreed += removeCounting(real);
        removed.push(real);
      } finally {
        locker.unlock(lock);
      }
    }
  } finally {
    locker.close();
  }
  if (linksDir) bytesFreed += removeUnusedLinks(linksDir);
  return { removed, bytesFreed };
}

/** Removes the `.links` entries that no store file shares any more; returns bytes freed. */
export function removeUnusedLinks(linksDir: string): number {
  let names: string[];
  try {
    names = readdirSync(linksDir);
  } catch {
    return 0; // the store was never optimised
  }
  let freed = 0;
  for (const name of names) {
    const link = join(linksDir, name);
    const stat = lstatSync(link, { throwIfNoEntry: false });
    if (stat?.nlink !== 1) continue;
    unlinkSync(link);
    freed += stat.size;
  }
  return freed;
}
