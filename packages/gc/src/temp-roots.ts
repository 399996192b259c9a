/**
 * Temporary roots: what a live client (a `kiln` process, a daemon connection, a build)
 * is using right now and must not lose to a concurrent collection, although no GC root
 * points at it yet: a path it just added, an input of a build it is about to start, a
 * profile generation it is about to link.
 *
 * Format (the daemon's temp-roots.ts writes the same, one file per connection named
 * `<daemon pid>-<connection number>`): `${stateDir}/kiln/temproots/<pid>` or
 * `<pid>-<tag>`, holding store paths, each followed by a newline, append-only. A file
 * counts while process `<pid>` is alive; the collector deletes the files of dead ones.
 *
 * The protocol closes the race Nix closes with its GC socket: a client appends the path
 * first, and only then checks that it is valid and uses it. The collector reads the
 * roots when it starts, and again for each batch of deletions while it holds both the
 * batch's path locks and the `gc-deleting.lock`. So a root appended after the collector
 * started is seen by every batch that starts later; a batch already running might not
 * see it, which is why `add` then waits for that batch (takes and releases
 * `gc-deleting.lock`) whenever a collector is running. After `add` returns, the path is
 * either protected or already gone (and the client's validity check says so). The
 * collector never waits for a path lock (it skips locked paths), so a client may hold
 * path locks while it adds roots.
 */
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseStorePath } from "@kiln/formats/store-path";
import type { StoreConfig } from "@kiln/store/store-config";
import { type GcLayout, gcLayout } from "./gc-layout.ts";
import { acquireLockFile, lockHeld } from "./lock-file.ts";

/**
 * The second half of adding a temporary root, for clients that write roots files
 * themselves (the daemon's per-connection files, `<pid>-<n>`): call it after the root is
 * appended and before the path is checked or used. When a collector is running it waits
 * for the batch being deleted (see the header); otherwise it returns at once.
 * @example appendRoot(path); await awaitCollectorBatch(gcLayout(config)); if (store.isValidPath(path)) …
 */
export async function awaitCollectorBatch(
  layout: Pick<GcLayout, "gcLock" | "deletingLock">,
): Promise<void> {
  if (!lockHeld(layout.gcLock)) return;
  const barrier = await acquireLockFile(layout.deletingLock);
  barrier?.release();
}

export class TempRoots {
  /** The roots file of this client. */
  readonly file: string;
  readonly #storeDir: string;
  readonly #gcLock: string;
  readonly #deletingLock: string;
  readonly #added = new Set<string>();
  #fd: number | undefined;

  private constructor(config: StoreConfig, file: string, fd: number) {
    const layout = gcLayout(config);
    this.file = file;
    this.#storeDir = config.storeDir;
    this.#gcLock = layout.gcLock;
    this.#deletingLock = layout.deletingLock;
    this.#fd = fd;
  }

  /**
   * Creates this client's roots file (emptying one a dead process with the same pid may
   * have left). `tag` tells apart several clients of one process: letters, digits, `_`.
   * @example
   * const roots = TempRoots.open(store.config);
   * await roots.add(path); if (!store.isValidPath(path)) await store.addTextToStore(…);
   * roots.close();
   */
  static open(config: StoreConfig, options: { tag?: string } = {}): TempRoots {
    const { tempRootsDir } = gcLayout(config);
    if (options.tag !== undefined && !/^[A-Za-z0-9_]+$/.test(options.tag)) {
      throw new TypeError(
        `temporary roots tag ${JSON.stringify(options.tag)} is not [A-Za-z0-9_]+`,
      );
    }
    mkdirSync(tempRootsDir, { recursive: true });
    const name = options.tag === undefined ? `${process.pid}` : `${process.pid}-${options.tag}`;
    const file = join(tempRootsDir, name);
    // A fresh file (not truncated in place), so a reader that knew the old one starts over.
    rmSync(file, { force: true });
    return new TempRoots(config, file, openSync(file, "wx", 0o644));
  }

  /**
   * Roots `paths` for as long as this client lives (or until `close`). Resolves once a
   * collection can no longer delete them without the caller noticing (see the header).
   */
  async add(paths: string | Iterable<string>): Promise<void> {
    if (this.#fd === undefined) throw new TypeError("temporary roots are closed");
    const fresh: string[] = [];
    for (const path of typeof paths === "string" ? [paths] : paths) {
      if (this.#added.has(path)) continue;
      parseStorePath(path, this.#storeDir);
      this.#added.add(path);
      fresh.push(path);
    }
    if (fresh.length === 0) return;
    // One write per call: the collector reads whole lines only.
    writeSync(this.#fd, `${fresh.join("\n")}\n`);
    await awaitCollectorBatch({ gcLock: this.#gcLock, deletingLock: this.#deletingLock });
  }

  /** The paths rooted so far. */
  get paths(): ReadonlySet<string> {
    return this.#added;
  }

  /** Drops every root of this client. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    try {
      unlinkSync(this.file);
    } catch {
      // Already removed: nothing to drop.
    }
  }
}
