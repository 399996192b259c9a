/**
 * Finds the GC roots, with Nix's and the Guix daemon's rules, in `${stateDir}/kiln/gcroots`
 * and `${stateDir}/kiln/profiles` (every generation link of every profile there):
 * - a symlink into the store is a root (a target inside a store path roots that path);
 * - any other symlink is an indirect root (`gcroots/auto/<hash>` → `/home/u/result`): when
 *   its target is itself a symlink into the store, that target is the root; when its
 *   target no longer exists, a link under `auto/` is stale and is removed;
 * - a regular file named like a store path's base name roots that path;
 * - directories are searched at any depth (symlinks to directories are not followed).
 */
import { lstatSync, readdirSync, readlinkSync, unlinkSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { isStorePath } from "@kiln/formats/store-path";
import type { StoreConfig } from "@kiln/store/store-config";
import { gcLayout } from "./gc-layout.ts";

export interface GcRoot {
  /** The file that holds the root (a symlink, or a generation link). */
  readonly link: string;
  /** The store path it keeps alive. */
  readonly target: string;
}

export interface FindRootsOptions {
  /** Delete indirect roots under `auto/` whose target is gone (the collector does). */
  readonly removeStale?: boolean;
}

/**
 * Every root (store path validity is not checked: the caller ignores invalid ones).
 * @example findRoots(store.config) // [{ link: "/var/kiln/profiles/per-user/ada/kiln-profile-3-link", target: "/gnu/store/…-profile" }]
 */
export function findRoots(
  config: Pick<StoreConfig, "storeDir" | "realStoreDir" | "stateDir">,
  options: FindRootsOptions = {},
): GcRoot[] {
  const layout = gcLayout(config);
  const roots = new Map<string, GcRoot>();

  /** The store path a link target designates, if it is in the store (logically or on disk). */
  const storePathOf = (target: string): string | undefined => {
    for (const dir of [config.storeDir, config.realStoreDir]) {
      if (!target.startsWith(`${dir}/`)) continue;
      const base = target.slice(dir.length + 1).split("/")[0];
      const path = `${config.storeDir}/${base}`;
      if (isStorePath(path, config.storeDir)) return path;
    }
    return undefined;
  };
  const found = (link: string, target: string) => roots.set(`${link}\0${target}`, { link, target });

  const visitLink = (link: string) => {
    let target: string;
    try {
      target = readlinkSync(link);
    } catch {
      return; // removed meanwhile
    }
    const direct = storePathOf(target);
    if (direct) {
      found(link, direct);
      return;
    }
    const absolute = resolve(dirname(link), target);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(absolute);
    } catch {
      if (options.removeStale && link.startsWith(layout.autoRootsDir + sep)) {
        try {
          unlinkSync(link);
        } catch {
          // Someone else removed it.
        }
      }
      return;
    }
    if (!stat.isSymbolicLink()) return;
    try {
      const indirect = storePathOf(readlinkSync(absolute));
      if (indirect) found(absolute, indirect);
    } catch {
      // Removed meanwhile.
    }
  };

  const visit = (path: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return; // missing directory: no roots there
    }
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (entry.isSymbolicLink()) visitLink(child);
      else if (entry.isFile()) {
        const storePath = `${config.storeDir}/${entry.name}`;
        if (isStorePath(storePath, config.storeDir)) found(child, storePath);
      }
    }
  };

  visit(layout.rootsDir);
  visit(layout.profilesDir);
  return [...roots.values()].sort((a, b) =>
    a.link < b.link ? -1 : a.link > b.link ? 1 : a.target < b.target ? -1 : 1,
  );
}
