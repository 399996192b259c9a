/**
 * The builder `builtin:buildenv`, run in-process as Nix runs its `builtin:` builders: the
 * union, as a tree of symlinks, of the items in the derivation's `packages`, plus the
 * `manifest` file. A directory provided by one item is one symlink to it; a directory
 * provided by several becomes a real directory whose entries are merged the same way;
 * two items providing the same file is an error naming both (Nix's buildenv does the
 * same; Guix warns and keeps the first).
 *
 * The tree is written at a temporary name beside the output under the output's lock, then
 * canonicalised, hashed, scanned for references (among the inputs) and registered with
 * the derivation as deriver, like any build output.
 */
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { formatHashNix32 } from "@kiln/formats/hash";
import { narChunks } from "@kiln/formats/nar-chunks";
import { createReferenceScanner } from "@kiln/formats/reference-scanner";
import { STORE_PATH_HASH_LENGTH } from "@kiln/formats/store-path";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import type { LocalStore } from "@kiln/store/local-store";
import { removeTree } from "@kiln/store/remove-tree";
import { BUILDENV_BUILDER } from "./profile-derivation.ts";
import { ProfileError } from "./profile-error.ts";

/** A node of the union: a link to one item's entry, or a directory merged from several. */
type UnionNode =
  | { kind: "link"; logical: string; real: string; owner: string; isDirectory: boolean }
  | { kind: "directory"; children: Map<string, UnionNode> };

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
      const root: UnionNode & { kind: "directory" } = { kind: "directory", children: new Map() };
      for (const item of packages) addItem(store, root, item);
      if (root.children.has("manifest")) {
        const owner = root.children.get("manifest");
        throw new ProfileError(
          "COLLISION",
          `${owner?.kind === "link" ? owner.owner : "an item"} provides a top-level manifest, which the profile's own manifest would hide`,
        );
      }
      writeUnion(root, temporary);
      writeFileSync(join(temporary, "manifest"), readFileSync(store.realPath(manifestPath)));
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

function addItem(store: LocalStore, root: UnionNode & { kind: "directory" }, item: string): void {
  const real = store.realPath(item);
  if (!lstatSync(real, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ProfileError(
      "NOT_DIRECTORY",
      `${item} is not a directory, so it cannot be installed in a profile`,
    );
  }
  merge(root, { kind: "link", logical: item, real, owner: item, isDirectory: true }, "");
}

/** Merges the entries of `incoming` (a directory link) into `into` (a directory node). */
function merge(
  into: UnionNode & { kind: "directory" },
  incoming: UnionNode & { kind: "link" },
  relative: string,
): void {
  for (const entry of readdirSync(incoming.real, { withFileTypes: true })) {
    const child: UnionNode = {
      kind: "link",
      logical: `${incoming.logical}/${entry.name}`,
      real: join(incoming.real, entry.name),
      owner: incoming.owner,
      isDirectory: entry.isDirectory(),
    };
    const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
    const existing = into.children.get(entry.name);
    if (!existing) {
      into.children.set(entry.name, child);
    } else if (existing.kind === "directory" && child.isDirectory) {
      merge(existing, child, path);
    } else if (existing.kind === "link" && existing.isDirectory && child.isDirectory) {
      const merged: UnionNode & { kind: "directory" } = { kind: "directory", children: new Map() };
      merge(merged, existing, path);
      merge(merged, child, path);
      into.children.set(entry.name, merged);
    } else if (!(existing.kind === "link" && sameFile(existing, child))) {
      const first = existing.kind === "link" ? existing.owner : "another item";
      throw new ProfileError(
        "COLLISION",
        `collision between ${first}/${path} and ${child.owner}/${path}`,
        { hint: "install only one of the two" },
      );
    }
  }
}

/** Two symlinks with the same target are the same file; anything else collides. */
function sameFile(a: { real: string }, b: { real: string }): boolean {
  try {
    return readlinkSync(a.real) === readlinkSync(b.real);
  } catch {
    return false;
  }
}

function writeUnion(root: UnionNode & { kind: "directory" }, target: string): void {
  mkdirSync(target, { mode: 0o755 });
  for (const [name, node] of root.children) {
    if (node.kind === "directory") writeUnion(node, join(target, name));
    else symlinkSync(node.logical, join(target, name));
  }
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
