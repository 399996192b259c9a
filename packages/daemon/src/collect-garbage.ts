/**
 * A minimal garbage collector for the daemon's CollectGarbage, until issue 4's: live
 * paths are the closure of the roots (find-roots.ts), with the derivers of live paths
 * when keeping derivations and the outputs of live derivations when keeping outputs;
 * everything else valid is dead. Deletion goes referrers first: each path is made
 * invalid in the database (which refuses while a valid path still refers to it), then
 * moved out of the store directory into a trash name and removed, so a crash never
 * leaves a valid path with missing files. The caller holds the daemon's GC lock
 * exclusively, so no add or build is half-way meanwhile.
 */

import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import { join } from "node:path";
import type { LocalStore } from "@kiln/store/local-store";
import { removeTree } from "@kiln/store/remove-tree";
import { DaemonError } from "./daemon-error.ts";
import type { GcRoots } from "./find-roots.ts";
import { GcAction } from "./worker-protocol.ts";

export interface CollectGarbageOptions {
  /** A GcAction. */
  readonly action: number;
  /** For DeleteSpecific. */
  readonly pathsToDelete?: readonly string[];
  /** Stop deleting once this many bytes are freed. */
  readonly maxFreed?: number;
  readonly keepOutputs?: boolean;
  readonly keepDerivations?: boolean;
}

export interface CollectGarbageResult {
  /** Live or dead paths (ReturnLive/ReturnDead), or the deleted ones. */
  readonly paths: string[];
  readonly bytesFreed: number;
}

/** The live paths: the closure of the roots under references, derivers and outputs. */
export function livePaths(
  store: LocalStore,
  roots: GcRoots,
  options: Pick<CollectGarbageOptions, "keepOutputs" | "keepDerivations">,
): Set<string> {
  const live = new Set<string>();
  const pending = [...roots.keys()].filter((path) => store.db.isValidPath(path));
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (live.has(path)) continue;
    live.add(path);
    const info = store.db.queryPathInfo(path);
    if (info === undefined) continue;
    pending.push(...info.references);
    if (options.keepDerivations && info.deriver && store.db.isValidPath(info.deriver)) {
      pending.push(info.deriver);
    }
    if (options.keepOutputs && path.endsWith(".drv")) {
      for (const output of store.db.derivationOutputs(path).values()) {
        if (store.db.isValidPath(output)) pending.push(output);
      }
    }
  }
  return live;
}

/** Deletes one path that nothing valid refers to; returns its NAR size. */
function deletePath(store: LocalStore, path: string): number {
  const info = store.db.queryPathInfo(path);
  if (info === undefined) return 0;
  store.db.invalidatePath(path);
  const real = store.realPath(path);
  const trash = join(store.config.realStoreDir, `gc-${randomBytes(6).toString("hex")}.kiln-new-0`);
  try {
    renameSync(real, trash);
  } catch {
    return info.narSize; // already gone
  }
  removeTree(trash);
  return info.narSize;
}

/** Deletes `paths` referrers first; stops after `maxFreed` bytes. */
function deleteAll(store: LocalStore, paths: ReadonlySet<string>, maxFreed: number) {
  const deleted: string[] = [];
  let bytesFreed = 0;
  const left = new Set(paths);
  while (left.size > 0 && bytesFreed < maxFreed) {
    let progress = false;
    for (const path of [...left].sort()) {
      const referrers = store.db.referrers(path).filter((r) => r !== path);
      if (referrers.some((r) => left.has(r))) continue;
      if (referrers.length > 0) {
        throw new DaemonError(
          "PATH_ALIVE",
          `cannot delete path '${path}' because it is referenced by '${referrers[0]}'`,
        );
      }
      bytesFreed += deletePath(store, path);
      deleted.push(path);
      left.delete(path);
      progress = true;
      if (bytesFreed >= maxFreed) break;
    }
    if (!progress) throw new DaemonError("GC", "cannot order the dead paths for deletion");
  }
  return { paths: deleted, bytesFreed };
}

export function collectGarbage(
  store: LocalStore,
  roots: GcRoots,
  options: CollectGarbageOptions,
): CollectGarbageResult {
  const live = livePaths(store, roots, options);
  const maxFreed = options.maxFreed ?? Number.MAX_SAFE_INTEGER;
  switch (options.action) {
    case GcAction.ReturnLive:
      return { paths: [...live].sort(), bytesFreed: 0 };
    case GcAction.ReturnDead:
      return {
        paths: store.db.allValidPaths().filter((path) => !live.has(path)),
        bytesFreed: 0,
      };
    case GcAction.DeleteDead: {
      const dead = new Set(store.db.allValidPaths().filter((path) => !live.has(path)));
      return deleteAll(store, dead, maxFreed);
    }
    case GcAction.DeleteSpecific: {
      const requested = new Set(options.pathsToDelete ?? []);
      for (const path of requested) {
        if (live.has(path)) {
          throw new DaemonError(
            "PATH_ALIVE",
            `cannot delete path '${path}' since it is still alive`,
            {
              hint: "remove the roots that keep it, or check with --referrers",
            },
          );
        }
      }
      return deleteAll(
        store,
        new Set([...requested].filter((path) => store.db.isValidPath(path))),
        maxFreed,
      );
    }
    default:
      throw new DaemonError("UNSUPPORTED", `unknown garbage collector action ${options.action}`);
  }
}
