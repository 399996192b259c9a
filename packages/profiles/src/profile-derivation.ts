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
  const { storeDir } = store.config;
  const items = [...new Set(manifest.entries.map((entry) => entry.item))];
  await options.tempRoots.add(items);
  for (const item of items) {
    if (!store.isValidPath(item)) {
      throw new ProfileError("INVALID_ITEM", `cannot install ${item}: it is not valid`, {
        hint: "build or add it first",
      });
    }
  }
  const manifestText = formatProfileManifest(manifest);
  const references = [...items].sort();
  const manifestPath = makeTextPath("profile-manifest", manifestText, { references, storeDir });
  await options.tempRoots.add(manifestPath);
  await store.addTextToStore("profile-manifest", manifestText, references);

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
  const drvPath = derivationPath(drv, { storeDir });
  const outPath = drv.outputs.get("out")!.path;
  await options.tempRoots.add([drvPath, outPath]);
  const written = await store.addTextToStore("profile.drv", printDerivation(drv), drv.inputSrcs);
  if (written !== drvPath) {
    throw new ProfileError(
      "BAD_DERIVATION",
      `profile derivation went to ${written}, expected ${drvPath}`,
    );
  }
  return { drvPath, outPath };
}
