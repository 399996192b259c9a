/**
 * The union tree of `builtin:buildenv` (profiles), shared by the in-process realisation
 * in @kiln/profiles and the builder's builtin (which the daemon runs): a tree of
 * symlinks to the entries of the items, plus the `manifest` file. A directory provided by
 * one item is one symlink to it; a directory provided by several becomes a real
 * directory whose entries are merged the same way; two items providing the same file is
 * an error naming both (Nix's buildenv does the same; Guix warns and keeps the first).
 * Links point at logical store paths; the items are read at their real paths.
 */
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { StoreError } from "./store-error.ts";

/** An item of the union: its logical store path and where it really is on this host. */
export interface BuildenvItem {
  readonly path: string;
  readonly realPath: string;
}

/** What goes wrong in a union: `COLLISION` (two items, one file) or `NOT_DIRECTORY`. */
export type BuildenvProblem = "COLLISION" | "NOT_DIRECTORY";

export interface BuildenvTreeOptions {
  /** The manifest file's contents, written as `manifest` at the top. */
  readonly manifest: Uint8Array | string;
  /** Makes the error thrown for a problem (default: StoreError `ERR_STORE_BUILDENV_…`). */
  readonly error?: (problem: BuildenvProblem, message: string, hint?: string) => Error;
}

/** A node of the union: a link to one item's entry, or a directory merged from several. */
type UnionNode =
  | { kind: "link"; logical: string; real: string; owner: string; isDirectory: boolean }
  | { kind: "directory"; children: Map<string, UnionNode> };
type DirectoryNode = UnionNode & { kind: "directory" };
type LinkNode = UnionNode & { kind: "link" };

/**
 * Writes the union of `items` (in order) and the manifest at `target`, which must not
 * exist. Throws (see options.error) before writing anything when the items collide.
 * @example writeBuildenvTree(tmp, [{ path: "/gnu/store/…-hello", realPath }], { manifest })
 */
export function writeBuildenvTree(
  target: string,
  items: readonly BuildenvItem[],
  options: BuildenvTreeOptions,
): void {
  const fail =
    options.error ??
    ((problem: BuildenvProblem, message: string, hint?: string) =>
      new StoreError(`BUILDENV_${problem}`, message, hint === undefined ? {} : { hint }));
  const root: DirectoryNode = { kind: "directory", children: new Map() };
  for (const item of items) {
    if (!lstatSync(item.realPath, { throwIfNoEntry: false })?.isDirectory()) {
      throw fail(
        "NOT_DIRECTORY",
        `${item.path} is not a directory, so it cannot be installed in a profile`,
      );
    }
    const link: LinkNode = {
      kind: "link",
      logical: item.path,
      real: item.realPath,
      owner: item.path,
      isDirectory: true,
    };
    merge(root, link, "", fail);
  }
  const manifestOwner = root.children.get("manifest");
  if (manifestOwner) {
    throw fail(
      "COLLISION",
      `${manifestOwner.kind === "link" ? manifestOwner.owner : "an item"} provides a top-level manifest, which the profile's own manifest would hide`,
    );
  }
  writeUnion(root, target);
  writeFileSync(join(target, "manifest"), options.manifest);
}

/** Merges the entries of `incoming` (a directory link) into `into` (a directory node). */
function merge(
  into: DirectoryNode,
  incoming: LinkNode,
  relative: string,
  fail: (problem: BuildenvProblem, message: string, hint?: string) => Error,
): void {
  for (const entry of readdirSync(incoming.real, { withFileTypes: true })) {
    const child: LinkNode = {
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
      merge(existing, child, path, fail);
    } else if (existing.kind === "link" && existing.isDirectory && child.isDirectory) {
      const merged: DirectoryNode = { kind: "directory", children: new Map() };
      merge(merged, existing, path, fail);
      merge(merged, child, path, fail);
      into.children.set(entry.name, merged);
    } else if (!(existing.kind === "link" && sameFile(existing, child))) {
      const first = existing.kind === "link" ? existing.owner : "another item";
      throw fail(
        "COLLISION",
        `collision between ${first}/${path} and ${child.owner}/${path}`,
        "install only one of the two",
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

function writeUnion(root: DirectoryNode, target: string): void {
  mkdirSync(target, { mode: 0o755 });
  for (const [name, node] of root.children) {
    if (node.kind === "directory") writeUnion(node, join(target, name));
    else symlinkSync(node.logical, join(target, name));
  }
}
