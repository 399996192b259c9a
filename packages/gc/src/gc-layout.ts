/**
 * Where garbage collection keeps its state. Everything lives under `${stateDir}/kiln`
 * (the store's state directory) except the two directories that must be on the store's
 * file system so that a rename into them is atomic and a hard link to them is possible:
 * the trash and the `.links` directory, inside the real store directory. Neither name
 * can be a store path (no 32-letter hash part), so verify and the GC's sweep skip them.
 */
import { join } from "node:path";
import { kilnStateDir, type StoreConfig } from "@kiln/store/store-config";

export interface GcLayout {
  /** GC roots: symlinks into the store, at any depth (`${stateDir}/kiln/gcroots`). */
  readonly rootsDir: string;
  /** Indirect roots: `auto/<hash>` links to symlinks elsewhere (`./result`, custom profiles). */
  readonly autoRootsDir: string;
  /** Profiles (`${stateDir}/kiln/profiles`); every generation link in it is a root. */
  readonly profilesDir: string;
  /** Temporary roots of live clients: one file per client, `<pid>` or `<pid>-<tag>`. */
  readonly tempRootsDir: string;
  /** Held by the one running collector (or optimiser). */
  readonly gcLock: string;
  /** Held by the collector while it deletes a batch; a client waits on it (see TempRoots). */
  readonly deletingLock: string;
  /** Dead paths are renamed here after being unregistered, then deleted. */
  readonly trashDir: string;
  /** `--optimize`: one hard link per distinct file, named by the nix32 SHA-256 of its NAR. */
  readonly linksDir: string;
  /** The real store directory, where path locks (`<path>.lock`) live. */
  readonly realStoreDir: string;
}

/** The GC's directories and lock files for a store configuration. */
export function gcLayout(config: Pick<StoreConfig, "stateDir" | "realStoreDir">): GcLayout {
  const state = kilnStateDir(config);
  return {
    rootsDir: join(state, "gcroots"),
    autoRootsDir: join(state, "gcroots", "auto"),
    profilesDir: join(state, "profiles"),
    tempRootsDir: join(state, "temproots"),
    gcLock: join(state, "gc.lock"),
    deletingLock: join(state, "gc-deleting.lock"),
    trashDir: join(config.realStoreDir, ".kiln-trash"),
    linksDir: join(config.realStoreDir, ".links"),
    realStoreDir: config.realStoreDir,
  };
}
