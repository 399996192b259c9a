/**
 * `kiln store verify` / `kiln gc --verify`: checks that every valid path has its files
 * (and, with checkContents, the NAR hash it was registered with), and clears what a
 * crash can leave behind: temporary copies, stale locks, and store entries that were
 * never registered. With repair, a corrupted or missing path is made invalid when no
 * other valid path refers to it (substitutes are not tried yet: see issue 5).
 */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { isStorePath } from "@kiln/formats/store-path";
import { LocalStore } from "./local-store.ts";
import { acquirePathLock } from "./path-lock.ts";
import { removeTree } from "./remove-tree.ts";

export interface VerifyOptions {
  /** Recompute each path's NAR hash (slow: reads the whole store). */
  readonly checkContents?: boolean;
  /** Invalidate broken paths that nothing refers to. */
  readonly repair?: boolean;
  /** Called for each path checked, for a progress display. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface VerifyReport {
  readonly checked: number;
  /** Valid paths whose files are missing. */
  readonly missing: string[];
  /** Valid paths whose contents do not match their registered hash: `path: expected …, got …`. */
  readonly corrupted: string[];
  /** Paths made invalid by repair. */
  readonly repaired: string[];
  /** Leftovers removed: unregistered store entries, temporary copies, stale locks. */
  readonly removed: string[];
  /** True when nothing is missing or corrupted (after repair). */
  readonly clean: boolean;
}

export async function verifyStore(
  store: LocalStore,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const { storeDir, realStoreDir } = store.config;
  const missing: string[] = [];
  const corrupted: string[] = [];
  const repaired: string[] = [];
  const removed: string[] = [];
  const valid = store.db.allValidPaths();
  let done = 0;
  for (const path of valid) {
    options.onProgress?.(++done, valid.length);
    const real = store.realPath(path);
    let exists = true;
    try {
      lstatSync(real);
    } catch {
      exists = false;
      missing.push(path);
    }
    if (exists && options.checkContents) {
      const info = store.requirePathInfo(path);
      const { hash, narSize } = await hashPath(real);
      const actual = formatHashNix32(hash);
      if (actual !== info.narHash || narSize !== info.narSize) {
        corrupted.push(
          `${path}: registered ${info.narHash} (${info.narSize} bytes), found ${actual} (${narSize} bytes)`,
        );
      }
    }
  }
  if (options.repair) {
    for (const entry of [
      ...missing,
      ...corrupted.map((line) => line.slice(0, line.indexOf(":"))),
    ]) {
      try {
        store.db.invalidatePath(entry);
        removeTree(store.realPath(entry));
        repaired.push(entry);
      } catch {
        // Still referred to: leave it, it stays reported.
      }
    }
  }

  // Leftovers: anything in the real store directory that is neither a valid path nor
  // held by a live process. A path being added right now is locked, so it is skipped.
  const validSet = new Set(valid);
  for (const name of readdirSync(realStoreDir)) {
    const real = join(realStoreDir, name);
    const path = `${storeDir}/${name}`;
    if (validSet.has(path) && !repaired.includes(path)) continue;
    if (name.endsWith(".lock")) {
      const lock = await acquirePathLock(real, { wait: false });
      if (lock) {
        lock.release();
        removed.push(real);
      }
      continue;
    }
    const owner = LocalStore.isLeftoverName(name)
      ? name.replace(/\.(kiln-new-|tmp-).*$/, "")
      : name;
    if (!LocalStore.isLeftoverName(name) && !isStorePath(path, storeDir)) continue; // not ours
    const lock = await acquirePathLock(join(realStoreDir, `${owner}.lock`), { wait: false });
    if (!lock) continue; // being added right now
    try {
      if (store.db.isValidPath(`${storeDir}/${name}`)) continue;
      removeTree(real);
      removed.push(real);
    } finally {
      lock.release();
    }
  }
  const stillBroken = [...missing, ...corrupted].filter(
    (line) => !repaired.some((p) => line.startsWith(p)),
  );
  return {
    checked: valid.length,
    missing,
    corrupted,
    repaired,
    removed,
    clean: stillBroken.length === 0,
  };
}
