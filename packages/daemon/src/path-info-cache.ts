/**
 * Path info for the hot query path, cached while the database is unchanged. SQLite's
 * `PRAGMA data_version`, read on a connection of our own that never writes, changes
 * whenever any other connection — the store's, in this process, or another process's —
 * commits; an entry is used only while the version it was read at is current. Looking
 * up the version costs a fraction of the two queries a path's info takes, and a client
 * evaluating an expression asks for the same paths over and over.
 *
 * Only valid paths are cached: an answer of "not valid" is always asked again. Each
 * entry also keeps the info's wire encoding per protocol format, so that answering
 * QueryPathInfo again is a copy of bytes.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { LocalStore } from "@kiln/store/local-store";
import type { PathInfo } from "@kiln/store/path-info";
import { databasePath } from "@kiln/store/store-config";
import type { WireFormat } from "./wire-format.ts";
import { writePathInfo } from "./wire-path-info.ts";

const MAX_ENTRIES = 10_000;

interface Entry {
  readonly info: PathInfo;
  readonly version: number;
  /** `minor/dialect` → the info as writePathInfo writes it. */
  readonly encoded: Map<string, Uint8Array>;
}

export class PathInfoCache {
  readonly #store: LocalStore;
  readonly #db: DatabaseSync;
  readonly #version: StatementSync;
  readonly #entries = new Map<string, Entry>();

  constructor(store: LocalStore) {
    this.#store = store;
    this.#db = new DatabaseSync(databasePath(store.config), { readOnly: true });
    this.#version = this.#db.prepare("PRAGMA data_version");
  }

  #currentVersion(): number {
    return (this.#version.get() as { data_version: number }).data_version;
  }

  #entry(path: string): Entry | undefined {
    const version = this.#currentVersion();
    const entry = this.#entries.get(path);
    if (entry !== undefined && entry.version === version) return entry;
    // Read the version before the info: a commit in between only makes the entry stale.
    const info = this.#store.db.queryPathInfo(path);
    if (info === undefined) {
      this.#entries.delete(path);
      return undefined;
    }
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    const fresh = { info, version, encoded: new Map() };
    this.#entries.set(path, fresh);
    return fresh;
  }

  /** The info of a valid path, or undefined. */
  get(path: string): PathInfo | undefined {
    return this.#entry(path)?.info;
  }

  /** The wire encoding of a valid path's info (see writePathInfo), or undefined. */
  encoded(path: string, format: WireFormat): Uint8Array | undefined {
    const entry = this.#entry(path);
    if (entry === undefined) return undefined;
    const key = `${format.minor}/${format.dialect}`;
    let bytes = entry.encoded.get(key);
    if (bytes === undefined) {
      const out = new FrameWriter();
      writePathInfo(out, entry.info, format);
      bytes = out.take();
      entry.encoded.set(key, bytes);
    }
    return bytes;
  }

  isValid(path: string): boolean {
    const entry = this.#entries.get(path);
    if (entry !== undefined && entry.version === this.#currentVersion()) return true;
    return this.#store.db.isValidPath(path);
  }

  close(): void {
    this.#entries.clear();
    this.#db.close();
  }
}
