/**
 * Where a store lives. The logical store directory is part of every hash; the real one
 * is where the files are on disk (they differ for stores kept elsewhere, like Nix's
 * `real=`); the state directory holds `kiln/db`, `kiln/log`, `kiln/gcroots`, …
 */
import { join } from "node:path";

export interface StoreConfig {
  readonly storeDir: string;
  readonly realStoreDir: string;
  readonly stateDir: string;
}

/** `${stateDir}/kiln`, the root of Kiln's state. */
export function kilnStateDir(config: Pick<StoreConfig, "stateDir">): string {
  return join(config.stateDir, "kiln");
}

/** Path of the SQLite database file. */
export function databasePath(config: Pick<StoreConfig, "stateDir">): string {
  return join(kilnStateDir(config), "db", "db.sqlite");
}

/** Where a logical store path's files are on disk. */
export function realPathOf(
  config: Pick<StoreConfig, "storeDir" | "realStoreDir">,
  storePath: string,
): string {
  return config.realStoreDir + storePath.slice(config.storeDir.length);
}
