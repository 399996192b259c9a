/**
 * The garbage collector's roots (issue 4 owns collection; this is what the daemon needs
 * for FindRoots and its minimal CollectGarbage):
 * - symlinks under `${stateDir}/kiln/gcroots` pointing into the store (or into a store
 *   path), and under `${stateDir}/kiln/profiles` (profile generations);
 * - indirect roots: symlinks under `gcroots/auto/` pointing at a symlink elsewhere (a
 *   `result` link) that points into the store; when that link is gone, the `auto/`
 *   entry is stale and removed, as Nix does;
 * - the temporary roots of live clients, listed as `{temp:<pid>}`.
 * Untrusted clients see `{censored}` instead of the links.
 */
import { lstatSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { kilnStateDir, type StoreConfig } from "@kiln/store/store-config";

/** Store path → the links (files, or `{temp:…}`) that keep it alive. */
export type GcRoots = Map<string, Set<string>>;

/** `${stateDir}/kiln/gcroots`, where permanent roots live (indirect ones under `auto/`). */
export function gcRootsDir(config: Pick<StoreConfig, "stateDir">): string {
  return join(kilnStateDir(config), "gcroots");
}

/** The store path `target` is in, if any. */
function storePathOf(target: string, storeDir: string): string | undefined {
  if (!target.startsWith(`${storeDir}/`)) return undefined;
  const rest = target.slice(storeDir.length + 1);
  const name = rest.split("/")[0];
  return name === "" ? undefined : `${storeDir}/${name}`;
}

function readTarget(link: string): string | undefined {
  try {
    const target = readlinkSync(link);
    return isAbsolute(target) ? target : resolve(link, "..", target);
  } catch {
    return undefined;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function add(roots: GcRoots, storePath: string, link: string): void {
  const links = roots.get(storePath);
  if (links === undefined) roots.set(storePath, new Set([link]));
  else links.add(link);
}

/** Walks `dir` (without following symlinked directories) for links into the store. */
function scan(dir: string, storeDir: string, roots: GcRoots, indirect: boolean): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      scan(path, storeDir, roots, indirect || name === "auto");
      continue;
    }
    if (!stat.isSymbolicLink()) continue;
    const target = readTarget(path);
    if (target === undefined) continue;
    const direct = storePathOf(target, storeDir);
    if (direct !== undefined) {
      add(roots, direct, path);
      continue;
    }
    if (!indirect) continue;
    // An indirect root: `path` → a link elsewhere → the store.
    if (!isSymlink(target)) {
      let exists = true;
      try {
        statSync(target);
      } catch {
        exists = false;
      }
      if (!exists) rmSync(path, { force: true }); // the link it stood for is gone
      continue;
    }
    const final = readTarget(target);
    const storePath = final === undefined ? undefined : storePathOf(final, storeDir);
    if (storePath !== undefined) add(roots, storePath, target);
  }
}

/**
 * Every root. `tempRoots` are the live clients' temporary roots; with `censor`, links
 * are hidden (for untrusted clients).
 */
export function findRoots(
  config: Pick<StoreConfig, "stateDir" | "storeDir">,
  options: { tempRoots?: Iterable<string>; censor?: boolean } = {},
): GcRoots {
  const roots: GcRoots = new Map();
  scan(gcRootsDir(config), config.storeDir, roots, false);
  scan(join(kilnStateDir(config), "profiles"), config.storeDir, roots, false);
  for (const path of options.tempRoots ?? []) add(roots, path, `{temp:${process.pid}}`);
  if (options.censor) {
    for (const [path] of roots) roots.set(path, new Set(["{censored}"]));
  }
  return roots;
}
