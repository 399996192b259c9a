/**
 * OptimiseStore: identical files in the store become hard links to one inode, as Nix's
 * and Guix's `--optimise` do. Each regular file is named by the nix32 hash of its NAR
 * serialisation (contents and executable bit) under `${realStoreDir}/.links`; a file
 * whose twin is already there is replaced by a link to it, atomically (link to a
 * temporary name beside it, then rename over it). Directories are made writable for
 * the rename and put back read-only with their canonical timestamp.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { hashPath } from "@kiln/formats/hash-path";
import { encodeNix32 } from "@kiln/formats/nix32";
import type { LocalStore } from "@kiln/store/local-store";

export interface OptimiseResult {
  readonly filesLinked: number;
  readonly bytesFreed: number;
}

/** `${realStoreDir}/.links`. */
export function linksDir(store: Pick<LocalStore, "config">): string {
  return join(store.config.realStoreDir, ".links");
}

/** Files under `root` (a real store path), not following symlinks. */
function* regularFiles(root: string): Generator<string> {
  const pending = [root];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) pending.push(join(path, name));
    } else if (stat.isFile()) {
      yield path;
    }
  }
}

async function optimiseFile(file: string, links: string): Promise<number> {
  const stat = lstatSync(file);
  if (stat.size === 0) return 0; // empty files are not worth an inode
  const { hash } = await hashPath(file);
  const link = join(links, encodeNix32(hash.digest));
  let linkStat: ReturnType<typeof lstatSync> | undefined;
  try {
    linkStat = lstatSync(link);
  } catch {
    linkSync(file, link);
    return 0;
  }
  if (linkStat.ino === stat.ino && linkStat.dev === stat.dev) return 0;
  const parent = dirname(file);
  const temporary = join(parent, `.tmp-link-${randomBytes(6).toString("hex")}`);
  const parentMode = lstatSync(parent).mode & 0o7777;
  chmodSync(parent, parentMode | 0o200);
  try {
    linkSync(link, temporary);
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
    chmodSync(parent, parentMode);
    utimesSync(parent, 1, 1);
  }
  return stat.size;
}

/** Hard-links identical files of every valid path. */
export async function optimiseStore(store: LocalStore): Promise<OptimiseResult> {
  const links = linksDir(store);
  mkdirSync(links, { recursive: true });
  let filesLinked = 0;
  let bytesFreed = 0;
  for (const path of store.db.allValidPaths()) {
    let real: string;
    try {
      real = store.realPath(path);
      lstatSync(real);
    } catch {
      continue;
    }
    for (const file of regularFiles(real)) {
      const freed = await optimiseFile(file, links);
      if (freed > 0) {
        filesLinked++;
        bytesFreed += freed;
      }
    }
  }
  return { filesLinked, bytesFreed };
}

/** Removes `.links` entries no store file uses any more (after a collection). */
export function pruneLinks(store: Pick<LocalStore, "config">): number {
  const links = linksDir(store);
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(links);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(links, name);
    if (lstatSync(path).nlink === 1) {
      rmSync(path, { force: true });
      removed++;
    }
  }
  return removed;
}
