/**
 * The deleting half of a collection. Paths go in deletion order (referrers first), in
 * batches; for each batch, while holding `gc-deleting.lock` and each path's own lock
 * (a path locked by someone else is skipped: it is being built, added or substituted):
 *   1. re-read the temporary roots, so a root a client added since the collection began
 *      (and the closure it keeps alive) is honoured — see temp-roots.ts for why this and
 *      the client's wait on `gc-deleting.lock` close the race;
 *   2. unregister the still-dead paths in one transaction, skipping any path that a valid
 *      path still refers to;
 *   3. rename each one into the trash (atomic, same file system).
 * The trash is emptied at the end (after every batch when a byte target must be met), in
 * the order its directory lists its entries: on ext4 that is several times faster than
 * unlinking in any other order, which is why Nix 2.8 deletes in `readdir` order too.
 * Unregistering comes first, so
 * a crash at any point leaves no valid path with missing files: at worst unregistered
 * entries in the store directory or the trash, which the next collection (and verify)
 * removes.
 */
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { basename, join } from "node:path";
import type { GcDatabase } from "./gc-database.ts";
import type { GcLayout } from "./gc-layout.ts";
import { addLiveClosure, type ClosureOptions } from "./live-closure.ts";
import { acquireLockFile, type HeldLock, LinkLocker } from "./lock-file.ts";
import { removeCounting } from "./remove-counting.ts";
import type { StoreGraph } from "./store-graph.ts";
import type { TempRootsReader } from "./temp-roots-reader.ts";

/** Paths per batch: few enough that a client waiting on a batch waits milliseconds. */
const BATCH = 256;

export interface DeletionContext {
  readonly db: GcDatabase;
  readonly layout: GcLayout;
  readonly graph: StoreGraph;
  readonly tempRoots: TempRootsReader;
  /** Paths that must survive: grows with the closure of late temporary roots. */
  readonly live: Set<string>;
  readonly closure: ClosureOptions;
  /** Where a store path's files are. */
  realPath(path: string): string;
  /** Honour roots at all (false for `--delete` with ignoreLiveness). */
  readonly honourRoots: boolean;
  readonly onDeleted?: (path: string) => void;
}

export interface DeletionResult {
  readonly deleted: string[];
  readonly bytesFreed: number;
}

/**
 * Deletes `order` (referrers first) until done or until `minFreed` bytes are freed.
 * @example await deleteDeadPaths(context, deletionOrder(dead, graph.references), 0)
 */
export async function deleteDeadPaths(
  context: DeletionContext,
  order: readonly string[],
  minFreed = 0,
): Promise<DeletionResult> {
  const { layout } = context;
  mkdirSync(layout.trashDir, { recursive: true });
  const locker = new LinkLocker(join(layout.realStoreDir, `.kiln-gc-${process.pid}`));
  try {
    return await deleteInBatches(context, order, minFreed, locker);
  } finally {
    locker.close();
  }
}

async function deleteInBatches(
  context: DeletionContext,
  order: readonly string[],
  minFreed: number,
  locker: LinkLocker,
): Promise<DeletionResult> {
  const { db, layout, graph } = context;
  const deleted: string[] = [];
  let bytesFreed = 0;
  let next = 0;
  while (next < order.length && (minFreed <= 0 || bytesFreed < minFreed)) {
    // With a target, stop a batch once its NAR sizes (an over-estimate) cover the rest.
    const batch: string[] = [];
    let estimate = 0;
    while (next < order.length && batch.length < BATCH) {
      const path = order[next++];
      batch.push(path);
      estimate += graph.narSize(path);
      if (minFreed > 0 && bytesFreed + estimate >= minFreed) break;
    }
    const unregisteredNow: string[] = [];
    const deleting = (await acquireLockFile(layout.deletingLock)) as HeldLock;
    const locks: string[] = [];
    try {
      const candidates: string[] = [];
      for (const path of batch) {
        const lock = `${context.realPath(path)}.lock`;
        if (!locker.tryLock(lock)) continue; // busy: being built, added or substituted
        locks.push(lock);
        candidates.push(path);
      }
      if (context.honourRoots) {
        const late = context.tempRoots.refresh();
        if (late.length > 0) addLiveClosure(graph, late, context.live, context.closure);
      }
      const unregistered = db.invalidate(
        context.honourRoots ? candidates.filter((path) => !context.live.has(path)) : candidates,
      );
      for (const path of unregistered) {
        moveToTrash(context.realPath(path), layout.trashDir);
        unregisteredNow.push(path);
      }
    } finally {
      for (const lock of locks) locker.unlock(lock);
      deleting.release();
    }
    if (minFreed > 0) bytesFreed += emptyTrash(layout.trashDir);
    for (const path of unregisteredNow) {
      deleted.push(path);
      context.onDeleted?.(path);
    }
  }
  bytesFreed += emptyTrash(layout.trashDir);
  return { deleted, bytesFreed };
}

/** Renames an unregistered path's files into the trash; files already gone are fine. */
function moveToTrash(real: string, trashDir: string): void {
  const trash = join(trashDir, basename(real));
  try {
    renameSync(real, trash);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    // A directory of the same name left by an earlier crash: clear it and retry.
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EISDIR" && code !== "ENOTDIR")
      throw error;
    removeCounting(trash);
    renameSync(real, trash);
  }
}

/**
 * Deletes everything in the trash, in directory order; returns the bytes freed.
 * @example emptyTrash("/gnu/store/.kiln-trash") // 1388890
 */
export function emptyTrash(trashDir: string): number {
  let names: string[];
  try {
    names = readdirSync(trashDir);
  } catch {
    return 0;
  }
  let freed = 0;
  for (const name of names) freed += removeCounting(join(trashDir, name));
  return freed;
}
