/**
 * The profiles `kiln gc -d` cleans: as Guix's `guix gc -d`, those whose generation links
 * are GC roots (`PROFILE-N-link`, with `PROFILE` still there), owned by the user running
 * it (every one when that user is root).
 */
import { lstatSync } from "node:fs";
import { findRoots } from "@kiln/gc/find-roots";
import type { StoreConfig } from "@kiln/store/store-config";

const GENERATION = /^(.*)-([0-9]+)-link$/;

/**
 * The profiles among the roots, sorted; with `uid`, only those whose link `uid` owns.
 * @example findProfiles(store.config, { uid: process.getuid() })
 */
export function findProfiles(config: StoreConfig, options: { uid?: number } = {}): string[] {
  const profiles = new Set<string>();
  for (const { link } of findRoots(config)) {
    const match = GENERATION.exec(link);
    if (!match) continue;
    const stat = lstatSync(match[1], { throwIfNoEntry: false });
    if (!stat?.isSymbolicLink()) continue;
    if (options.uid !== undefined && options.uid !== 0 && stat.uid !== options.uid) continue;
    profiles.add(match[1]);
  }
  return [...profiles].sort();
}
