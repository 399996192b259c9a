/**
 * Scratch directories reused from one build to the next within one `buildDerivations`
 * call. A fresh scratch directory costs several directories plus one entry per input in
 * the sandbox's store directory (a mount point, which bwrap creates on the host's disk,
 * or a copy); in a chain of builds whose closures grow, that was most of the time spent
 * per build. A reused one keeps the entries of the inputs its last build had, so the
 * next build creates only those it lacks (runInSandbox removes those it does not need).
 *
 * What may stay between builds, and why it is safe: only the input entries. Mount points
 * are covered by read-only mounts while a build runs, which it can neither remove nor
 * write through (EBUSY, EROFS); input copies are checked before reuse (see
 * sandbox-store-dir.ts). Everything else the build left in the store directory (outputs
 * not taken, junk) is removed on release, and its build tree by runInSandbox. A
 * directory is only ever reused for the same uid, so builds of different build users
 * never share one.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { removeTree } from "./remove-tree.ts";
import { sandboxLayout } from "./sandbox-layout.ts";
import { cleanSandboxStoreDir, type SandboxStoreEntry } from "./sandbox-store-dir.ts";

/** A scratch directory handed out by a pool. */
export interface PooledScratch {
  readonly dir: string;
  /** Set when an earlier build used it: pass it to runInSandbox as `reuseScratch`. */
  readonly reuse?: ReadonlyMap<string, SandboxStoreEntry>;
  /** The uid the build runs as; the directory is reused only for the same uid. */
  readonly uid: number;
}

/** Idle directories kept at most, per pool. */
const MAX_IDLE = 8;

export class ScratchPool {
  readonly #buildDir: string;
  readonly #idle: PooledScratch[] = [];
  #disposed = false;

  /** Scratch directories are created under `buildDir`, which must exist. */
  constructor(buildDir: string) {
    this.#buildDir = buildDir;
  }

  /**
   * A scratch directory for a build running as `uid`: an idle one of the same uid, or a
   * fresh name starting with `label` (not created yet: runInSandbox creates it).
   * @example
   * const scratch = pool.acquire(uid, "hello-2.12");
   * const result = await runInSandbox(spec, { scratchDir: scratch.dir, reuseScratch: scratch.reuse });
   * pool.release(scratch, result);
   */
  acquire(uid: number, label: string): PooledScratch {
    const index = this.#idle.findLastIndex((scratch) => scratch.uid === uid);
    if (index >= 0) return this.#idle.splice(index, 1)[0];
    const dir = join(this.#buildDir, `${label.slice(0, 60)}-${randomBytes(6).toString("hex")}`);
    return { dir, uid };
  }

  /**
   * Takes back `scratch` once its outputs have been moved out: everything in its store
   * directory but the input entries of `result` is removed, then it waits for the next
   * build. A directory holding a kept build tree is left alone, one that cannot be
   * cleaned is removed.
   */
  release(
    scratch: PooledScratch,
    result: { buildTreeKept?: string; storeEntries?: ReadonlyMap<string, SandboxStoreEntry> },
  ): void {
    const layout = sandboxLayout(scratch.dir, "any");
    if (result.buildTreeKept !== undefined) {
      removeTree(layout.hostStoreDir);
      return;
    }
    const entries = result.storeEntries;
    if (this.#disposed || this.#idle.length >= MAX_IDLE || entries === undefined) {
      removeTree(scratch.dir);
      return;
    }
    try {
      cleanSandboxStoreDir(layout.hostStoreDir, entries);
      this.#idle.push({ dir: scratch.dir, reuse: entries, uid: scratch.uid });
    } catch {
      removeTree(scratch.dir);
    }
  }

  /** Removes every idle directory; later releases remove theirs at once. */
  dispose(): void {
    this.#disposed = true;
    for (const scratch of this.#idle.splice(0)) {
      try {
        const layout = sandboxLayout(scratch.dir, "any");
        // Mount points are empty: one unlink or rmdir each, no walk.
        for (const entry of readdirSync(layout.hostStoreDir, { withFileTypes: true })) {
          const path = join(layout.hostStoreDir, entry.name);
          if (entry.isDirectory()) rmdirSync(path);
          else removeTree(path);
        }
        rmdirSync(layout.hostStoreDir);
        try {
          rmdirSync(layout.hostBuildTop); // left when its last build did not touch it
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
        for (const dir of [layout.hostPrivateDir, scratch.dir]) rmdirSync(dir);
      } catch {
        removeTree(scratch.dir);
      }
    }
  }
}
