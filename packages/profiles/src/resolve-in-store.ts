/**
 * Following symlinks the way a program in the store sees them: links in profiles and in
 * union trees point at logical store paths (`/gnu/store/…`), which are somewhere else on
 * this host when the store's real directory differs. This resolves a logical path, link
 * by link, mapping every logical store path to its real location.
 */
import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { isAbsolute, join, posix } from "node:path";
import type { StoreConfig } from "@kiln/store/store-config";

const MAX_LINKS = 40;

/**
 * The real file `path` designates (a logical store path, or any absolute path), with its
 * lstat, or undefined when it does not exist.
 * @example resolveInStore(config, "/gnu/store/…-profile/bin")?.stat.isDirectory()
 */
export function resolveInStore(
  config: Pick<StoreConfig, "storeDir" | "realStoreDir">,
  path: string,
): { real: string; stat: Stats } | undefined {
  const toReal = (logical: string) =>
    logical === config.storeDir || logical.startsWith(`${config.storeDir}/`)
      ? config.realStoreDir + logical.slice(config.storeDir.length)
      : logical;
  let links = 0;
  let pending = posix.normalize(path).split("/").filter(Boolean);
  let current = "/";
  while (pending.length > 0) {
    const [name, ...rest] = pending;
    pending = rest;
    const logical = join(current, name);
    // The logical store directory and its parents need not exist on this host.
    if (logical === config.storeDir || config.storeDir.startsWith(`${logical}/`)) {
      current = logical;
      continue;
    }
    const stat = statOrUndefined(toReal(logical));
    if (!stat) return undefined;
    if (stat.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = readlinkSync(toReal(logical));
      const absolute = isAbsolute(target) ? target : join(current, target);
      pending = [...posix.normalize(absolute).split("/").filter(Boolean), ...pending];
      current = "/";
      continue;
    }
    current = logical;
  }
  const real = toReal(current);
  const stat = statOrUndefined(real);
  return stat ? { real, stat } : undefined;
}

/** lstat, or undefined when there is nothing there (ENOENT, or ENOTDIR: a file on the way). */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}
