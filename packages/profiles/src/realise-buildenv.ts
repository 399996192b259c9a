/**
 * The builder `builtin:buildenv`, run in-process as Nix runs its `builtin:` builders: the
 * union, as a tree of symlinks, of the items in the derivation's `packages`, plus the
 * `manifest` file (writeBuildenvTree, which the daemon's builder runs too).
 *
 * The tree is written at a temporary name beside the output under the output's lock, then
 * canonicalised, hashed, scanned for references (among the inputs) and registered with
 * the derivation as deriver, like any build output.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { formatHashNix32 } from "@kiln/formats/hash";
import { narChunks } from "@kiln/formats/nar-chunks";
import { createReferenceScanner } from "@kiln/formats/reference-scanner";
import { STORE_PATH_HASH_LENGTH } from "@kiln/formats/store-path";
import { writeBuildenvTree } from "@kiln/store/buildenv-tree";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import type { LocalStore } from "@kiln/store/local-store";
import { removeTree } from "@kiln/store/remove-tree";
import { BUILDENV_BUILDER } from "./profile-derivation.ts";
import { ProfileError } from "./profile-error.ts";

/**
 * Builds the output of a `builtin:buildenv` derivation unless it is valid; returns it.
 * @example await realiseBuildenv(store, "/gnu/store/…-profile.drv") // "/gnu/store/…-profile"
 */
export async function realiseBuildenv(store: LocalStore, drvPath: string): Promise<string> {
  const drv = store.readDerivation(drvPath);
  if (drv.builder !== BUILDENV_BUILDER) {
    throw new ProfileError("BAD_DERIVATION", `${drvPath} is not built by ${BUILDENV_BUILDER}`);
  }
  const out = drv.outputs.get("out")?.path;
  const manifestPath = drv.env.get("manifest");
  if (!out || !manifestPath) {
    throw new ProfileError("BAD_DERIVATION", `${drvPath} lacks an out output or a manifest`);
  }
  const packages = (drv.env.get("packages") ?? "").split(" ").filter(Boolean);
  for (const path of [manifestPath, ...packages]) {
    if (!drv.inputSrcs.includes(path)) {
      throw new ProfileError(
        "BAD_DERIVATION",
        `${path} is used by ${drvPath} but not among its inputs`,
      );
    }
    store.requirePathInfo(path);
  }
  if (store.isValidPath(out)) return out;
  const unlock = await store.lockPaths([out]);
  try {
    if (store.isValidPath(out)) return out;
    const temporary = store.temporaryPathFor(out);
    try {
      const items = packages.map((path) => ({ path, realPath: store.realPath(path) }));
      writeBuildenvTree(temporary, items, {
        manifest: readFileSync(store.realPath(manifestPath)),
        error: (problem, message, hint) =>
          new ProfileError(problem, message, hint === undefined ? {} : { hint }),
      });
      canonicalisePathMetadata(temporary);
      const { narHash, narSize, references } = scan(temporary, [...drv.inputSrcs, out]);
      store.commitPath(temporary, {
        path: out,
        narHash: formatHashNix32({ algorithm: "sha256", digest: narHash }),
        narSize,
        references,
        deriver: drvPath,
        ultimate: true,
      });
    } catch (error) {
      removeTree(temporary);
      throw error;
    }
  } finally {
    unlock();
  }
  return out;
}

function scan(
  tree: string,
  candidates: readonly string[],
): { narHash: Uint8Array; narSize: number; references: string[] } {
  const byHashPart = new Map<string, string>();
  for (const candidate of candidates) {
    byHashPart.set(basename(candidate).slice(0, STORE_PATH_HASH_LENGTH), candidate);
  }
  const scanner = createReferenceScanner(byHashPart.keys());
  const hash = createHash("sha256");
  let narSize = 0;
  for (const chunk of narChunks(tree, { reuseBuffer: true })) {
    hash.update(chunk);
    scanner.update(chunk);
    narSize += chunk.length;
  }
  const references = [...scanner.found()].map((part) => byHashPart.get(part)!).sort();
  return { narHash: new Uint8Array(hash.digest()), narSize, references };
}
