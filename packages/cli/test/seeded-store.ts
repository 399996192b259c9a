/**
 * Test support for package builds: a scratch Kiln store whose logical directory is
 * `/gnu/store` (kept in a temporary directory) with the bootstrap seeds imported, and
 * builds in it that report every derivation not built.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDerivations } from "@kiln/builder/build-derivations";
import type { BuildOptions, BuildResult } from "@kiln/builder/build-options";
import { type Bootstrap, importBootstrapSeeds } from "@kiln/packages";
import { LocalStore } from "@kiln/store/local-store";

export interface SeededStore {
  /** The temporary directory holding the store and its state. */
  readonly root: string;
  readonly store: LocalStore;
  readonly bootstrap: Bootstrap;
  /**
   * Builds `drvPaths` (and what they need) with `options`; `failures` has a line
   * `NAME: STATUS MESSAGE` for each derivation that was not built, dependencies too.
   */
  build(
    drvPaths: readonly string[],
    options?: Omit<BuildOptions, "reporter">,
  ): Promise<{ results: BuildResult[]; failures: string[] }>;
  /** Closes the store and removes the directory. */
  dispose(): void;
}

/**
 * A scratch `/gnu/store` with the seeds, in a temporary directory named from `prefix`.
 *
 * @example
 * const { store, bootstrap, build, dispose } = await seededStore("kiln-sample-build-");
 */
export async function seededStore(prefix: string): Promise<SeededStore> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const store = LocalStore.open({
    storeDir: "/gnu/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  const dispose = () => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  };
  let bootstrap: Bootstrap;
  try {
    bootstrap = await importBootstrapSeeds(store);
  } catch (error) {
    dispose();
    throw error;
  }
  return {
    root,
    store,
    bootstrap,
    async build(drvPaths, options = {}) {
      const failures: string[] = [];
      const results = await buildDerivations(store, drvPaths, {
        ...options,
        reporter: {
          planned() {},
          started() {},
          output() {},
          finished(result) {
            if (result.status !== "built")
              failures.push(`${result.name}: ${result.status} ${result.error?.message ?? ""}`);
          },
          warning() {},
        },
      });
      return { results, failures };
    },
    dispose,
  };
}
