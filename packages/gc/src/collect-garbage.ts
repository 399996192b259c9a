/**
 * `kiln gc` and the daemon's CollectGarbage: one collection under the global GC lock.
 * Read the roots (gcroots, profiles, temporary roots of live clients, locked paths),
 * compute what is live from a snapshot of the database, and then, depending on the
 * action, return the live or dead paths or delete dead ones (delete-dead-paths.ts).
 */
import type { LocalStore } from "@kiln/store/local-store";
import { computeLiveness } from "./compute-liveness.ts";
import { deleteDeadPaths, emptyTrash } from "./delete-dead-paths.ts";
import { deletionOrder } from "./deletion-order.ts";
import { findLockedPaths } from "./find-locked-paths.ts";
import { findRoots } from "./find-roots.ts";
import { GcDatabase } from "./gc-database.ts";
import { GcError } from "./gc-error.ts";
import { gcLayout } from "./gc-layout.ts";
import { acquireGcLock } from "./gc-lock.ts";
import { sweepStoreDirectory } from "./sweep-store-directory.ts";
import { TempRootsReader } from "./temp-roots-reader.ts";

export type GcAction = "delete-dead" | "delete-specific" | "return-live" | "return-dead";

export interface CollectGarbageOptions {
  /** What to do (Nix's GCAction); default delete-dead. */
  readonly action?: GcAction;
  /** For delete-specific: the paths to delete. */
  readonly paths?: readonly string[];
  /** Stop once this many bytes are freed (`-C MIN`, `-F`); 0 or absent: collect everything. */
  readonly minFreed?: number;
  /** delete-specific only: delete even live paths (still never one a valid path refers to). */
  readonly ignoreLiveness?: boolean;
  /** `--gc-keep-outputs`: outputs of live derivations are live (default false, as Guix). */
  readonly keepOutputs?: boolean;
  /** `--gc-keep-derivations`: derivations of live outputs are live (default true, as Guix). */
  readonly keepDerivations?: boolean;
  /** Called for each path deleted. */
  readonly onDeleted?: (path: string) => void;
}

export interface GcResult {
  /** Deleted paths (delete-*), or the live or dead paths (return-*), sorted for return-*. */
  readonly paths: string[];
  readonly bytesFreed: number;
}

/**
 * Runs one collection. Waits for another collection to finish first.
 * @example
 * const { paths, bytesFreed } = await collectGarbage(store, { action: "delete-dead" });
 * @example
 * await collectGarbage(store, { action: "delete-specific", paths: ["/gnu/store/…-old"] });
 */
export async function collectGarbage(
  store: LocalStore,
  options: CollectGarbageOptions = {},
): Promise<GcResult> {
  const action = options.action ?? "delete-dead";
  const layout = gcLayout(store.config);
  const closure = {
    keepOutputs: options.keepOutputs ?? false,
    keepDerivations: options.keepDerivations ?? true,
  };
  const gcLock = await acquireGcLock(layout.gcLock);
  const db = new GcDatabase(store.config);
  try {
    const deleting = action === "delete-dead" || action === "delete-specific";
    let bytesFreed = deleting ? emptyTrash(layout.trashDir) : 0; // an interrupted run's
    const tempRoots = new TempRootsReader(layout.tempRootsDir);
    tempRoots.refresh({ removeStale: true });
    const roots = findRoots(store.config, { removeStale: deleting }).map((root) => root.target);
    const busy = findLockedPaths(store.config);
    const graph = db.readGraph();
    const { live, dead } = computeLiveness(graph, {
      roots: [...roots, ...tempRoots.roots],
      busy,
      ...closure,
    });
    if (action === "return-live") return { paths: [...live].sort(), bytesFreed: 0 };
    if (action === "return-dead") return { paths: dead, bytesFreed: 0 };

    const honourRoots = !(action === "delete-specific" && options.ignoreLiveness);
    let targets: readonly string[] = dead;
    if (action === "delete-specific") {
      const wanted = [...new Set(options.paths ?? [])];
      for (const path of wanted) store.realPath(path); // a store path, or an error naming it
      const alive = wanted.find((path) => live.has(path));
      if (alive !== undefined && honourRoots) {
        throw new GcError("PATH_ALIVE", `cannot delete path ${alive} since it is still alive`, {
          hint: `see what keeps it with: kiln gc --referrers ${alive}`,
        });
      }
      targets = wanted.filter((path) => graph.isValid(path));
    }
    const order = deletionOrder(targets, (path) => graph.references(path));
    const result = await deleteDeadPaths(
      {
        db,
        layout,
        graph,
        tempRoots,
        live: honourRoots ? live : new Set(),
        closure,
        realPath: (path) => store.realPath(path),
        honourRoots,
        onDeleted: options.onDeleted,
      },
      order,
      options.minFreed ?? 0,
    );
    bytesFreed += result.bytesFreed;
    if (action === "delete-specific") {
      const deleted = new Set(result.deleted);
      const stuck = targets.find((path) => !deleted.has(path));
      if (stuck !== undefined) {
        throw new GcError(
          "PATH_IN_USE",
          `cannot delete path ${stuck}: it is in use (referred to by a valid path, locked, or rooted meanwhile)`,
          { hint: `see its referrers with: kiln gc --referrers ${stuck}` },
        );
      }
    }
    const complete = (options.minFreed ?? 0) <= 0 || bytesFreed < (options.minFreed ?? 0);
    if (action === "delete-dead" && complete) {
      const deleted = new Set(result.deleted);
      const swept = sweepStoreDirectory(
        store.config,
        (path) => (graph.isValid(path) && !deleted.has(path)) || db.isValidPath(path),
        layout.linksDir,
      );
      bytesFreed += swept.bytesFreed;
    }
    return { paths: result.deleted, bytesFreed };
  } finally {
    db.close();
    gcLock.release();
  }
}
