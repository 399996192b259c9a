/**
 * The derivation a profile generation comes from, as in Guix and Nix (where the union
 * tree is the output of a derivation too): builder `builtin:buildenv`, system `builtin`,
 * inputs the installed items and a text store file holding the manifest. Its env:
 *   manifest  the manifest file's store path
 *   packages  the items to union, space-separated, in manifest order
 * Same manifest, same derivation, same profile path. realiseBuildenv builds it.
 */
import type { Derivation, DerivationOutput } from "@kiln/formats/derivation";
import { computeDerivationOutputs, derivationPath } from "@kiln/formats/derivation-outputs";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { printDerivation } from "@kiln/formats/print-derivation";
import type { TempRoots } from "@kiln/gc/temp-roots";
import type { LocalStore } from "@kiln/store/local-store";
import { ProfileError } from "./profile-error.ts";
import { formatProfileManifest, type ProfileManifest } from "./profile-manifest.ts";

export const BUILDENV_BUILDER = "builtin:buildenv";

export interface ProfileDerivation {
  readonly drvPath: string;
  /** The profile store item the derivation produces. */
  readonly outPath: string;
}

/** A profile derivation and its manifest file, computed but not written anywhere. */
export interface ProfileDerivationPlan extends ProfileDerivation {
  /** The items to union, in manifest order, without repeats. */
  readonly items: readonly string[];
  readonly manifestText: string;
  /** The store path of the manifest file (a text path referring to the items). */
  readonly manifestPath: string;
  /** The `.drv` text, whose references are `drv.inputSrcs`. */
  readonly drvText: string;
  readonly inputSrcs: readonly string[];
}

/**
 * The derivation of a profile for `manifest` in the store `storeDir`. Pure: the caller
 * writes the manifest text (`profile-manifest`, referring to the items) and the `.drv`
 * (`profile.drv`), to a local store or through a daemon.
 * @example planProfileDerivation(manifest, "/gnu/store").drvPath
 */
export function planProfileDerivation(
  manifest: ProfileManifest,
  storeDir: string,
): ProfileDerivationPlan {
  const items = [...new Set(manifest.entries.map((entry) => entry.item))];
  const manifestText = formatProfileManifest(manifest);
  const references = [...items].sort();
  const manifestPath = makeTextPath("profile-manifest", manifestText, { references, storeDir });
  const outputs = new Map<string, DerivationOutput>([
    ["out", { path: "", hashAlgo: "", hash: "" }],
  ]);
  const bare: Derivation = {
    outputs,
    inputDrvs: new Map(),
    inputSrcs: [...new Set([manifestPath, ...items])].sort(),
    system: "builtin",
    builder: BUILDENV_BUILDER,
    args: [],
    env: new Map([
      ["manifest", manifestPath],
      ["name", "profile"],
      ["out", ""],
      ["packages", items.join(" ")],
    ]),
  };
  const drv = computeDerivationOutputs(bare, {
    resolve: () => {
      throw new ProfileError("BAD_DERIVATION", "a profile derivation has no input derivations");
    },
    storeDir,
  });
  return {
    drvPath: derivationPath(drv, { storeDir }),
    outPath: drv.outputs.get("out")!.path,
    items,
    manifestText,
    manifestPath,
    drvText: printDerivation(drv),
    inputSrcs: drv.inputSrcs,
  };
}

/**
 * Writes the manifest file and the `.drv` into the store, rooting each (and the output)
 * in `tempRoots` before it is checked or written, so a concurrent collection cannot take
 * them between now and the generation link. The items must be valid.
 * @example const { drvPath, outPath } = await writeProfileDerivation(store, manifest, { tempRoots });
 */
export async function writeProfileDerivation(
  store: LocalStore,
  manifest: ProfileManifest,
  options: { tempRoots: TempRoots },
): Promise<ProfileDerivation> {
  const plan = planProfileDerivation(manifest, store.config.storeDir);
  const { items, manifestPath, drvPath, outPath } = plan;
  await options.tempRoots.add([...items]);
  for (const item of items) {
    if (!store.isValidPath(item)) {
      throw new ProfileError("INVALID_ITEM", `cannot install ${item}: it is not valid`, {
        hint: "build or add it first",
      });
    }
  }
  await options.tempRoots.add(manifestPath);
  await store.addTextToStore("profile-manifest", plan.manifestText, [...items].sort());
  await options.tempRoots.add([drvPath, outPath]);
  const written = await store.addTextToStore("profile.drv", plan.drvText, plan.inputSrcs);
  if (written !== drvPath) {
    throw new ProfileError(
      "BAD_DERIVATION",
      `profile derivation went to ${written}, expected ${drvPath}`,
    );
  }
  return { drvPath, outPath };
}
