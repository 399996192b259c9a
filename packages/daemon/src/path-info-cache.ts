/**
 * Path info for the hot query path, cached while the database is unchanged: an entry is
 * used only while the database's version is the one it was read at, and a client
 * evaluating an expression asks for the same paths over and over.
 *
 * The version: the store's database is in WAL mode, and every commit, by any connection
 * in any process, rewrites the WAL-index header at the start of the `-shm` file (its
 * change counter, frame count, salts and checksums); readers find new commits only
 * through that header, so it changing is exactly "something was committed". Reading
 * those 48 bytes with one pread costs ~1 µs; `PRAGMA data_version`, the documented way,
 * takes a read transaction (two fcntl locks) and cost ~7 µs a request in the daemon,
 * a third of its own time per QueryPathInfo. The file stays valid while this process
 * has the database open (SQLite removes it only when the last connection closes). If it
 * cannot be read, `PRAGMA data_version` is used.
 *
 * Only valid paths are cached: an answer of "not valid" is always asked again. Each
 * entry also keeps the info's wire encoding per protocol format, so that answering
 * QueryPathInfo again is a copy of bytes.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { LocalStore } from "@kiln/store/local-store";
import type { PathInfo } from "@kiln/store/path-info";
import { databasePath } from "@kiln/store/store-config";
import type { WireFormat } from "./wire-format.ts";
import { writePathInfo } from "./wire-path-info.ts";

const MAX_ENTRIES = 10_000;
/** The first copy of the WAL-index header (sqlite's wal.c, WalIndexHdr). */
const WAL_INDEX_HEADER_BYTES = 48;

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
  /** The `-shm` file, when readable; the header last seen, and a count of changes. */
  #shm: number | undefined;
  readonly #header = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  readonly #scratch = Buffer.alloc(WAL_INDEX_HEADER_BYTES);
  #changes = 0;

  constructor(store: LocalStore) {
    this.#store = store;
    this.#db = new DatabaseSync(databasePath(store.config), { readOnly: true });
    this.#version = this.#db.prepare("PRAGMA data_version");
    // One read transaction first, so that the WAL index exists and is initialised.
    this.#version.get();
    try {
      this.#shm = openSync(`${databasePath(store.config)}-shm`, "r");
      if (
        readSync(this.#shm, this.#header, 0, WAL_INDEX_HEADER_BYTES, 0) !== WAL_INDEX_HEADER_BYTES
      )
        this.#closeShm();
    } catch {
      this.#closeShm();
    }
  }

  /** True when commits are seen through the WAL index (else through `PRAGMA data_version`). */
  get readsWalIndex(): boolean {
    return this.#shm !== undefined;
  }

  #closeShm(): void {
    if (this.#shm !== undefined) closeSync(this.#shm);
    this.#shm = undefined;
  }

  #currentVersion(): number {
    if (this.#shm === undefined)
      return -(this.#version.get() as { data_version: number }).data_version;
    const scratch = this.#scratch;
    readSync(this.#shm, scratch, 0, WAL_INDEX_HEADER_BYTES, 0);
    if (!scratch.equals(this.#header)) {
      scratch.copy(this.#header);
      this.#changes++;
    }
    return this.#changes;
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
    this.#closeShm();
    this.#db.close();
  }
}
