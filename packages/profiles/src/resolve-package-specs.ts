/**
 * Turning what the user names on `kiln package -i` (or in a `-m` file) into manifest
 * entries: a store path is installed as it is; `DRV.drv[:OUTPUT]` installs that output,
 * or every output, of the derivation, built first by the function the caller passes (the
 * CLI passes the builder's buildDerivations). Everything is temporarily rooted before it
 * is checked, built or used.
 */
import type { Derivation } from "@kiln/formats/derivation";
import type { TempRoots } from "@kiln/gc/temp-roots";
import type { LocalStore } from "@kiln/store/local-store";
import type { StoreConfig } from "@kiln/store/store-config";
import { manifestEntryOf, recordedOutput } from "./manifest-entry.ts";
import { ProfileError } from "./profile-error.ts";
import type { ManifestEntry } from "./profile-manifest.ts";

export interface ResolveOptions {
  readonly tempRoots: TempRoots;
  /** Builds derivations whose outputs are missing. */
  readonly realise?: (drvPaths: readonly string[]) => Promise<void>;
}

/** What resolving specs needs of a store: a local one, or a daemon's (see the CLI). */
export interface SpecStore {
  readonly config: Pick<StoreConfig, "storeDir" | "realStoreDir">;
  isValidPath(path: string): boolean | Promise<boolean>;
  readDerivation(drvPath: string): Derivation | Promise<Derivation>;
  /** Which output of its deriver `item` (valid) is, when the store recorded it. */
  recordedOutput(item: string): string | undefined | Promise<string | undefined>;
}

/**
 * @example await resolvePackageSpecs(store, ["/gnu/store/…-hello-2.12.drv"], { tempRoots, realise })
 */
export async function resolvePackageSpecs(
  store: LocalStore,
  specs: readonly string[],
  options: ResolveOptions,
): Promise<ManifestEntry[]> {
  return resolvePackageSpecsIn(
    {
      config: store.config,
      isValidPath: (path) => store.isValidPath(path),
      readDerivation: (drvPath) => store.readDerivation(drvPath),
      recordedOutput: (item) => recordedOutput(store, item),
    },
    specs,
    { addRoots: (paths) => options.tempRoots.add(paths), realise: options.realise },
  );
}

/**
 * resolvePackageSpecs in any SpecStore; `addRoots` roots paths temporarily.
 * @example await resolvePackageSpecsIn(daemonSpecStore, specs, { addRoots, realise })
 */
export async function resolvePackageSpecsIn(
  store: SpecStore,
  specs: readonly string[],
  options: {
    addRoots: (paths: readonly string[]) => Promise<void>;
    realise?: ResolveOptions["realise"];
  },
): Promise<ManifestEntry[]> {
  const wanted: Array<{ item: string; output?: string; drvPath?: string }> = [];
  for (const spec of specs) {
    const match = /^(.*\.drv)(?::([^/:]+))?$/.exec(spec);
    if (!match) {
      wanted.push({ item: spec });
      continue;
    }
    const drvPath = match[1];
    await options.addRoots([drvPath]);
    const drv = await store.readDerivation(drvPath);
    const names = match[2] === undefined ? [...drv.outputs.keys()] : [match[2]];
    for (const name of names) {
      const output = drv.outputs.get(name);
      if (!output) {
        throw new ProfileError("BAD_SPEC", `${drvPath} has no output ${JSON.stringify(name)}`, {
          hint: `its outputs: ${[...drv.outputs.keys()].join(", ")}`,
        });
      }
      wanted.push({ item: output.path, output: name, drvPath });
    }
  }
  await options.addRoots(wanted.map((w) => w.item));
  const toBuild: string[] = [];
  for (const w of wanted) {
    if (w.drvPath && !toBuild.includes(w.drvPath) && !(await store.isValidPath(w.item)))
      toBuild.push(w.drvPath);
  }
  if (toBuild.length > 0) {
    if (!options.realise) {
      throw new ProfileError("NOT_BUILT", `${toBuild[0]} is not built`, { hint: "build it first" });
    }
    await options.realise(toBuild);
  }
  const entries: ManifestEntry[] = [];
  for (const w of wanted) {
    if (!(await store.isValidPath(w.item))) {
      throw new ProfileError(
        "INVALID_ITEM",
        w.drvPath ? `building ${w.drvPath} did not produce ${w.item}` : `${w.item} is not valid`,
        { hint: w.drvPath ? undefined : "add or build it first" },
      );
    }
    entries.push(
      manifestEntryOf(store.config, w.item, w.output ?? (await store.recordedOutput(w.item))),
    );
  }
  return entries;
}
