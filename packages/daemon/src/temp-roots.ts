/**
 * Temporary GC roots: the store paths a connected client is using (AddTempRoot, and
 * everything the daemon adds or builds for it), protected from garbage collection until
 * the client disconnects.
 *
 * They are kept in memory for collections run inside the daemon, and in files for
 * collectors running beside it (`kiln gc`, issue 4):
 *
 *   ${stateDir}/kiln/temproots/<daemon pid>-<connection number>
 *
 * Each file holds store paths, each followed by "\n", appended as they are added (a
 * reader ignores a last line without its newline: it is being written). A file belongs
 * to a live client as long as the daemon whose pid it names is alive; the daemon removes
 * it when the client disconnects, and at start-up removes the files of daemons that are
 * gone (killed with -9). A collector must treat every path in a file whose daemon is
 * alive as a root.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { kilnStateDir, type StoreConfig } from "@kiln/store/store-config";

/** The temporary roots of one connection. */
export interface TempRootSet {
  /** Adds a root (no-op when already there). */
  add(path: string): void;
  has(path: string): boolean;
  readonly paths: ReadonlySet<string>;
  /** Drops the roots and removes the file. */
  close(): void;
}

/** Where temp-root files live. */
export function tempRootsDir(config: Pick<StoreConfig, "stateDir">): string {
  return join(kilnStateDir(config), "temproots");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** All temporary roots of a daemon process, one set per connection. */
export class TempRoots {
  readonly dir: string;
  readonly #live = new Set<TempRootSet>();
  #next = 0;

  constructor(config: Pick<StoreConfig, "stateDir">) {
    this.dir = tempRootsDir(config);
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
  }

  /** Removes the files of daemons that are no longer running; returns their names. */
  removeStale(): string[] {
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const pid = Number(name.split("-")[0]);
      if (pid === process.pid || (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid))) continue;
      rmSync(join(this.dir, name), { force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Opens the root set of a new connection; its file is created on the first add. */
  open(): TempRootSet {
    const file = join(this.dir, `${process.pid}-${++this.#next}`);
    const paths = new Set<string>();
    let fd: number | undefined;
    const live = this.#live;
    const set: TempRootSet = {
      paths,
      has: (path) => paths.has(path),
      add(path) {
        if (paths.has(path)) return;
        paths.add(path);
        fd ??= openSync(file, "a", 0o644);
        writeSync(fd, `${path}\n`);
      },
      close() {
        if (!live.delete(set)) return;
        if (fd !== undefined) closeSync(fd);
        rmSync(file, { force: true });
        paths.clear();
      },
    };
    live.add(set);
    return set;
  }

  /** Every temporary root of every live connection. */
  all(): Set<string> {
    const all = new Set<string>();
    for (const set of this.#live) for (const path of set.paths) all.add(path);
    return all;
  }

  /** Closes every set (daemon shutdown). */
  closeAll(): void {
    for (const set of [...this.#live]) set.close();
  }
}
