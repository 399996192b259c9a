/**
 * Store paths locked right now: a build writing its outputs, an add or a substitution in
 * progress. Their lock files are `<real store path>.lock`, holding the owner's pid.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isStorePath } from "@kiln/formats/store-path";
import type { StoreConfig } from "@kiln/store/store-config";
import { lockHeld } from "./lock-file.ts";

/**
 * The logical store paths whose lock is held by a live process, sorted.
 * @example findLockedPaths(store.config) // ["/gnu/store/…-hello-2.12"] while it builds
 */
export function findLockedPaths(config: Pick<StoreConfig, "storeDir" | "realStoreDir">): string[] {
  const locked: string[] = [];
  for (const name of readdirSync(config.realStoreDir)) {
    if (!name.endsWith(".lock")) continue;
    const path = `${config.storeDir}/${name.slice(0, -".lock".length)}`;
    if (!isStorePath(path, config.storeDir)) continue;
    if (lockHeld(join(config.realStoreDir, name))) locked.push(path);
  }
  return locked.sort();
}
