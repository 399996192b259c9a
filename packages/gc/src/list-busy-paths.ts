/**
 * `kiln gc --list-busy`: store items in use right now. Guix lists what running processes
 * have open (it scans /proc); Kiln lists what its own clients declared: paths locked by a
 * live process (being built, added or substituted) and the temporary roots of live
 * clients.
 */
import type { StoreConfig } from "@kiln/store/store-config";
import { findLockedPaths } from "./find-locked-paths.ts";
import { gcLayout } from "./gc-layout.ts";
import { TempRootsReader } from "./temp-roots-reader.ts";

/**
 * The busy store paths, sorted (they need not be valid: a locked path may be being built).
 * @example listBusyPaths(store.config) // ["/gnu/store/…-hello-2.12"]
 */
export function listBusyPaths(config: StoreConfig): string[] {
  const reader = new TempRootsReader(gcLayout(config).tempRootsDir);
  reader.refresh();
  const prefix = `${config.storeDir}/`;
  const temp = [...reader.roots].filter((path) => path.startsWith(prefix));
  return [...new Set([...findLockedPaths(config), ...temp])].sort();
}
