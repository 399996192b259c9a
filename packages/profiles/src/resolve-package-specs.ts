/**
 * Turning what the user names on `kiln package -i` (or in a `-m` file) into manifest
 * entries: a store path is installed as it is; `DRV.drv[:OUTPUT]` installs that output,
 * or every output, of the derivation, built first by the function the caller passes (the
 * CLI passes the builder's buildDerivations). Everything is temporarily rooted before it
 * is checked, built or used.
 */
import type { TempRoots } from "@kiln/gc/temp-roots";
import type { LocalStore } from "@kiln/store/local-store";
import { manifestEntryFor } from "./manifest-entry.ts";
import { ProfileError } from "./profile-error.ts";
import type { ManifestEntry } from "./profile-manifest.ts";

export interface ResolveOptions {
  readonly tempRoots: TempRoots;
  /** Builds derivations whose outputs are missing. */
  readonly realise?: (drvPaths: readonly string[]) => Promise<void>;
}

/**
 * @example await resolvePackageSpecs(store, ["/gnu/store/…-hello-2.12.drv"], { tempRoots, realise })
 */
export async function resolvePackageSpecs(
  store: LocalStore,
  specs: readonly string[],
  options: ResolveOptions,
): Promise<ManifestEntry[]> {
  const wanted: Array<{ item: string; output?: string; drvPath?: string }> = [];
  for (const spec of specs) {
    const match = /^(.*\.drv)(?::([^/:]+))?$/.exec(spec);
    if (!match) {
      wanted.push({ item: spec });
      continue;
    }
    const drvPath = match[1];
    await options.tempRoots.add(drvPath);
    const drv = store.readDerivation(drvPath);
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
  await options.tempRoots.add(wanted.map((w) => w.item));
  const toBuild = [
    ...new Set(
      wanted.filter((w) => w.drvPath && !store.isValidPath(w.item)).map((w) => w.drvPath!),
    ),
  ];
  if (toBuild.length > 0) {
    if (!options.realise) {
      throw new ProfileError("NOT_BUILT", `${toBuild[0]} is not built`, { hint: "build it first" });
    }
    await options.realise(toBuild);
  }
  return wanted.map((w) => {
    if (!store.isValidPath(w.item)) {
      throw new ProfileError(
        "INVALID_ITEM",
        w.drvPath ? `building ${w.drvPath} did not produce ${w.item}` : `${w.item} is not valid`,
        { hint: w.drvPath ? undefined : "add or build it first" },
      );
    }
    return manifestEntryFor(store, w.item, { output: w.output });
  });
}
