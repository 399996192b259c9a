/**
 * The collector's side of temporary roots (format and protocol in temp-roots.ts): reads
 * every live client's roots file, then, each time it is asked, only what was appended
 * since, so re-reading before every batch of deletions stays cheap.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { processAlive } from "./lock-file.ts";

interface FileState {
  ino: number;
  born: number;
  offset: number;
}

export class TempRootsReader {
  readonly #dir: string;
  readonly #files = new Map<string, FileState>();
  /** Every root read so far, from live clients. */
  readonly roots = new Set<string>();

  constructor(tempRootsDir: string) {
    this.#dir = tempRootsDir;
  }

  /**
   * Reads new roots; returns the paths not seen before. With `removeStale`, deletes the
   * files of clients that are no longer running (only the collector, under its lock, does).
   */
  refresh(options: { removeStale?: boolean } = {}): string[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return []; // no client ever rooted anything
    }
    const fresh: string[] = [];
    for (const name of names) {
      const pid = Number.parseInt(name, 10);
      if (!/^\d+(-[A-Za-z0-9_]+)?$/.test(name)) continue;
      const file = join(this.#dir, name);
      if (!processAlive(pid)) {
        if (options.removeStale) {
          try {
            unlinkSync(file);
          } catch {
            // Gone already.
          }
        }
        continue;
      }
      for (const path of this.#readNew(file)) {
        if (this.roots.has(path)) continue;
        this.roots.add(path);
        fresh.push(path);
      }
    }
    return fresh;
  }

  #readNew(file: string): string[] {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return []; // the client closed it meanwhile
    }
    try {
      const stat = fstatSync(fd);
      let state = this.#files.get(file);
      // A new file, or one recreated (a new client with a reused pid): from the start.
      // Inode numbers are reused, so the birth time tells a recreated file apart too.
      const born = stat.birthtimeMs;
      if (!state || state.ino !== stat.ino || state.born !== born || stat.size < state.offset) {
        state = { ino: stat.ino, born, offset: 0 };
        this.#files.set(file, state);
      }
      const length = stat.size - state.offset;
      if (length <= 0) return [];
      const buffer = Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const n = readSync(fd, buffer, read, length - read, state.offset + read);
        if (n === 0) break;
        read += n;
      }
      // Only whole lines: a client's write may be read half-way.
      const end = buffer.lastIndexOf(10, read - 1);
      if (end < 0) return [];
      state.offset += end + 1;
      return buffer
        .toString("utf8", 0, end)
        .split("\n")
        .filter((line) => line !== "");
    } finally {
      closeSync(fd);
    }
  }
}
