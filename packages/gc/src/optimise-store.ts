/**
 * `kiln gc --optimize`: identical files in the store become hard links to one inode, as
 * Nix's and Guix's `optimise-store` do. Each distinct file has an entry in
 * `${realStoreDir}/.links/` named by the nix32 SHA-256 of its NAR serialisation (so the
 * executable bit is part of its identity, and two files with the same name share mode
 * too); a file whose twin is already there is replaced by a link to it, atomically
 * (link to a temporary name beside it, then rename over it). Store files all have mtime
 * 1, so the shared inode's metadata is the same for every path that uses it; the
 * directory's own mtime and permissions are put back after the rename.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  type Stats,
  unlinkSync,
  utimesSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { hashPath } from "@kiln/formats/hash-path";
import { encodeNix32 } from "@kiln/formats/nix32";
import type { LocalStore } from "@kiln/store/local-store";
import { gcLayout } from "./gc-layout.ts";
import { acquireGcLock } from "./gc-lock.ts";

export interface OptimiseResult {
  /** Regular files looked at. */
  readonly filesScanned: number;
  /** Files replaced by a link to an identical one. */
  readonly filesLinked: number;
  /** Bytes no longer stored twice. */
  readonly bytesSaved: number;
}

/**
 * Deduplicates every valid path (or just `paths`). Runs under the GC lock, so no
 * collection removes a `.links` entry while it is being linked to.
 * @example const { bytesSaved } = await optimiseStore(store);
 */
export async function optimiseStore(
  store: LocalStore,
  options: { paths?: readonly string[] } = {},
): Promise<OptimiseResult> {
  const { linksDir, gcLock } = gcLayout(store.config);
  const lock = await acquireGcLock(gcLock);
  try {
    mkdirSync(linksDir, { recursive: true });
    const linked = new Set<number>();
    for (const name of readdirSync(linksDir)) {
      const stat = lstatSync(join(linksDir, name), { throwIfNoEntry: false });
      if (stat) linked.add(stat.ino);
    }
    const totals = { filesScanned: 0, filesLinked: 0, bytesSaved: 0 };
    for (const path of options.paths ?? store.db.allValidPaths()) {
      if (!store.isValidPath(path)) continue;
      const pending = [store.realPath(path)];
      for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
        const stat = lstatSync(file, { throwIfNoEntry: false });
        if (!stat) continue;
        if (stat.isDirectory()) {
          for (const name of readdirSync(file)) pending.push(join(file, name));
          continue;
        }
        if (!stat.isFile() || stat.size === 0) continue;
        totals.filesScanned++;
        if (linked.has(stat.ino)) continue; // already shares the .links inode
        const { hash } = await hashPath(file);
        const link = join(linksDir, encodeNix32(hash.digest));
        const outcome = linkOrReplace(file, stat, link);
        if (outcome === "replaced") {
          totals.filesLinked++;
          if (stat.nlink === 1) totals.bytesSaved += stat.size;
        } else if (outcome === "new") {
          linked.add(stat.ino);
        }
      }
    }
    return totals;
  } finally {
    lock.release();
  }
}

/** Makes `file` share `link`'s inode: records it as the first of its kind, or replaces it. */
function linkOrReplace(file: string, stat: Stats, link: string): "new" | "replaced" | "skipped" {
  try {
    linkSync(file, link);
    return "new";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const target = lstatSync(link);
  if (target.ino === stat.ino) return "skipped";
  // Same NAR hash implies same size; a mismatch means a corrupted .links entry.
  if (target.size !== stat.size || !target.isFile()) return "skipped";
  const parent = dirname(file);
  const parentStat = lstatSync(parent);
  const temporary = join(parent, `.kiln-link-${randomBytes(6).toString("hex")}`);
  const writable = (parentStat.mode & 0o200) !== 0;
  if (!writable) chmodSync(parent, parentStat.mode | 0o200);
  try {
    try {
      linkSync(link, temporary);
    } catch (error) {
      // Too many links to that inode: keep this copy.
      if ((error as NodeJS.ErrnoException).code === "EMLINK") return "skipped";
      throw error;
    }
    try {
      renameSync(temporary, file);
    } catch (error) {
      unlinkSync(temporary);
      throw error;
    }
    return "replaced";
  } finally {
    if (!writable) chmodSync(parent, parentStat.mode & 0o7777);
    utimesSync(parent, parentStat.atime, parentStat.mtime);
  }
}
