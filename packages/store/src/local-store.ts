/**
 * A store on this machine: files under the real store directory, facts in the SQLite
 * database. Everything that enters goes the same way: into a temporary name beside its
 * final place, canonicalised (read-only, mtime 1, no setuid), flushed to disk, renamed
 * into place under the path's lock, and only then registered, together with its
 * references, in one transaction. A crash at any point leaves at worst an invalid
 * leftover that `verify` (and the next add of the same path) removes; never a valid
 * path with missing or partial files.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { formatContentAddress } from "@kiln/formats/content-address";
import type { Derivation } from "@kiln/formats/derivation";
import { formatHashNix32, type Hash, type HashAlgorithm, hashBytes } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { hashStream } from "@kiln/formats/hash-stream";
import { makeFixedOutputPath, makeTextPath } from "@kiln/formats/make-store-path";
import { restoreNar } from "@kiln/formats/nar-restore";
import { dumpPath } from "@kiln/formats/nar-writer";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { parseStorePath } from "@kiln/formats/store-path";
import { BackgroundSync } from "./background-sync.ts";
import { canonicalisePathMetadata } from "./canonicalise.ts";
import { flushFiles } from "./flush-files.ts";
import { flushTree } from "./flush-tree.ts";
import { fsyncTree } from "./fsync-tree.ts";
import { hashingTee } from "./hashing-tee.ts";
import { narOfRegularFile } from "./nar-of-regular-file.ts";
import type { NewPathInfo, PathInfo } from "./path-info.ts";
import { acquirePathLocks } from "./path-lock.ts";
import { removeTree } from "./remove-tree.ts";
import { databasePath, kilnStateDir, type StoreConfig } from "./store-config.ts";
import { type Registration, StoreDatabase } from "./store-database.ts";
import { StoreError } from "./store-error.ts";
import { WRITE_BACK_BYTES } from "./write-back-bytes.ts";

export interface AddToStoreOptions {
  /** Store path name (default: the source's base name). */
  readonly name?: string;
  /** `recursive` (the NAR, as `nix-store --add`) or `flat` (a regular file's bytes). */
  readonly method?: "recursive" | "flat";
  /** Hash algorithm of the content address (default sha256). */
  readonly algorithm?: HashAlgorithm;
  /** Store paths the content refers to (recursive sha256 only). */
  readonly references?: readonly string[];
  /**
   * Computes a tree's NAR hash (default `hashPath`); a CLI passes its two-thread
   * NarHashWorker here. Must give exactly what hashPath gives.
   */
  readonly hashTree?: (path: string, algorithm: HashAlgorithm) => Promise<{ hash: Hash }>;
}

/** One text for `addTextsToStore`: a name, the contents and the store paths it refers to. */
export interface TextToAdd {
  readonly name: string;
  readonly text: string | Uint8Array;
  readonly references?: readonly string[];
}

/** What the caller knows about a NAR it hands to `addNarToStore`. */
export type IncomingPathInfo = Omit<NewPathInfo, "narSize"> & { readonly narSize?: number };

/** What a producer of `#addUnderLock` may say besides the info: that it canonicalised. */
interface ProducedTree {
  readonly info: NewPathInfo;
  /** The tree already has canonical metadata (restoreNar's `canonical` option). */
  readonly canonical: boolean;
}

/** While a NAR is restored into the store, start writing it to disk every this many bytes. */
const SYNC_AHEAD_BYTES = 32 * 2 ** 20;

/** Entries in the real store directory that are ours but not store paths. */
const LEFTOVER = /\.(kiln-new-[0-9a-f]+|tmp-[0-9a-f]+|lock|check)$|\.lock\.stale-/;

export class LocalStore {
  readonly config: StoreConfig;
  readonly db: StoreDatabase;

  private constructor(config: StoreConfig, db: StoreDatabase) {
    this.config = config;
    this.db = db;
  }

  /** Opens the store, creating its directories and database when missing. */
  static open(config: StoreConfig): LocalStore {
    try {
      mkdirSync(config.realStoreDir, { recursive: true });
      mkdirSync(kilnStateDir(config), { recursive: true });
    } catch (cause) {
      throw new StoreError(
        "UNWRITABLE",
        `cannot create the store at ${config.realStoreDir}: ${(cause as Error).message}`,
        {
          cause,
          hint: "run as the store's owner, or pass --real-store-dir and --state-dir pointing somewhere writable",
        },
      );
    }
    return new LocalStore(Object.freeze({ ...config }), new StoreDatabase(databasePath(config)));
  }

  close(): void {
    this.db.close();
  }

  /** Where a store path's files are on disk. Throws for anything that is not a store path. */
  realPath(storePath: string): string {
    const { baseName } = parseStorePath(storePath, this.config.storeDir);
    return join(this.config.realStoreDir, baseName);
  }

  isValidPath(path: string): boolean {
    return this.db.isValidPath(path);
  }

  queryPathInfo(path: string): PathInfo | undefined {
    return this.db.queryPathInfo(path);
  }

  /** Like queryPathInfo, but a missing path is an error naming it. */
  requirePathInfo(path: string): PathInfo {
    parseStorePath(path, this.config.storeDir); // names a path outside the store as such
    const info = this.db.queryPathInfo(path);
    if (!info)
      throw new StoreError("INVALID_PATH", `path ${path} is not valid`, {
        hint: "add or build it first",
      });
    return info;
  }

  /** The closure of `paths` under references (the paths themselves included), sorted. */
  requisites(paths: Iterable<string>, options: { includeOutputs?: boolean } = {}): string[] {
    const seen = new Set<string>();
    const pending = [...paths];
    for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
      if (seen.has(path)) continue;
      this.requirePathInfo(path);
      seen.add(path);
      for (const reference of this.db.references(path))
        if (!seen.has(reference)) pending.push(reference);
      if (options.includeOutputs && path.endsWith(".drv")) {
        for (const output of this.db.derivationOutputs(path).values()) {
          if (this.db.isValidPath(output)) pending.push(output);
        }
      }
    }
    return [...seen].sort();
  }

  /** Parses a valid `.drv` from the store. */
  readDerivation(drvPath: string): Derivation {
    if (!drvPath.endsWith(".drv"))
      throw new StoreError("NOT_DERIVATION", `${drvPath} is not a derivation`);
    this.requirePathInfo(drvPath);
    return parseDerivation(readFileSync(this.realPath(drvPath)));
  }

  /** Locks store paths (in a fixed order); returns the function that releases them. */
  async lockPaths(paths: readonly string[]): Promise<() => void> {
    const locks = await acquirePathLocks(paths.map((path) => `${this.realPath(path)}.lock`));
    return () => {
      for (const lock of locks) lock.release();
    };
  }

  /** Deletes the files of a path that is not valid (a crash leftover). Refuses valid paths. */
  removeInvalidPath(path: string): void {
    if (this.db.isValidPath(path))
      throw new StoreError("PATH_VALID", `refusing to delete valid path ${path}`);
    removeTree(this.realPath(path));
  }

  /** A fresh temporary name beside `path`'s real location, recognised as a leftover by verify. */
  temporaryPathFor(path: string): string {
    return `${this.realPath(path)}.kiln-new-${randomBytes(6).toString("hex")}`;
  }

  /**
   * Moves a canonicalised, complete tree at `temporary` into place as `path` and registers
   * it. The caller holds the path's lock and has checked that it is not valid. Unless the
   * caller says it already awaited `flushTree(temporary)` (`flushed`), the tree is flushed
   * here, synchronously.
   */
  commitPath(
    temporary: string,
    info: NewPathInfo,
    derivationOutputs?: ReadonlyMap<string, string>,
    options: { flushed?: boolean } = {},
  ): void {
    const real = this.realPath(info.path);
    if (existsSync(real)) removeTree(real);
    if (!options.flushed) fsyncTree(temporary);
    renameSync(temporary, real);
    this.db.registerValidPaths([{ info, derivationOutputs }]);
  }

  /** Output name → path, when `path` is a derivation (they are recorded on registration). */
  derivationOutputsOfFile(path: string, file: string): Map<string, string> | undefined {
    if (!path.endsWith(".drv")) return undefined;
    try {
      const drv = parseDerivation(readFileSync(file));
      return new Map([...drv.outputs].map(([name, output]) => [name, output.path]));
    } catch {
      return undefined; // a text file named .drv that is not a derivation
    }
  }

  /**
   * Adds a file or tree, content-addressed, as `nix-store --add` / `--add-fixed` do.
   * A path that is already valid is not rewritten. Returns the store path.
   */
  async addToStore(source: string, options: AddToStoreOptions = {}): Promise<string> {
    const name = options.name ?? basename(source);
    const method = options.method ?? "recursive";
    const algorithm = options.algorithm ?? "sha256";
    const references = [...(options.references ?? [])].sort();
    for (const reference of references) this.requirePathInfo(reference);
    const { storeDir } = this.config;
    let caHash: Awaited<ReturnType<typeof hashStream>> | undefined;
    if (method === "flat") {
      if (!lstatSync(source).isFile())
        throw new StoreError(
          "NOT_REGULAR",
          `${source} is not a regular file; flat hashing needs one`,
        );
      const { createReadStream } = await import("node:fs");
      caHash = await hashStream(createReadStream(source), algorithm);
    }
    const contentHash = caHash ?? (await (options.hashTree ?? hashPath)(source, algorithm)).hash;
    const path = makeFixedOutputPath({ method, hash: contentHash, name, references, storeDir });
    if (this.db.isValidPath(path)) return path;

    await this.#addUnderLock(path, async (temporary) => {
      const tee = hashingTee(dumpPath(source));
      await restoreNar(tee.chunks, temporary, { writeBackBytes: WRITE_BACK_BYTES });
      const { hash: narHash, size: narSize } = tee.result();
      // The source may have changed since we hashed it: check what we copied.
      const copiedHash =
        method === "flat"
          ? await hashStream(readFileChunks(temporary), algorithm)
          : algorithm === "sha256"
            ? narHash
            : (await hashPath(temporary, algorithm)).hash;
      if (Buffer.compare(copiedHash.digest, contentHash.digest) !== 0) {
        throw new StoreError("SOURCE_CHANGED", `${source} changed while it was being added`);
      }
      return {
        path,
        narHash: formatHashNix32(narHash),
        narSize,
        references,
        ca: formatContentAddress({ method, hash: contentHash }),
      };
    });
    return path;
  }

  /** Adds a text file as `builtins.toFile` and `.drv` files are added. Returns its path. */
  async addTextToStore(
    name: string,
    text: string | Uint8Array,
    references: readonly string[] = [],
  ): Promise<string> {
    const sorted = [...new Set(references)].sort();
    for (const reference of sorted) this.requirePathInfo(reference);
    const path = makeTextPath(name, text, { references: sorted, storeDir: this.config.storeDir });
    if (this.db.isValidPath(path)) return path;
    await this.#addUnderLock(path, async (temporary) => {
      writeFileSync(temporary, text, { flag: "wx", mode: 0o444 });
      const { hash, narSize } = await hashPath(temporary);
      return {
        path,
        narHash: formatHashNix32(hash),
        narSize,
        references: sorted,
        ca: formatContentAddress({ method: "text", hash: hashBytes("sha256", text) }),
      };
    });
    return path;
  }

  /**
   * Adds many texts at once, as addTextToStore does one by one, but with one flush of the
   * file system and one database transaction for the whole batch: what makes writing the
   * 10,000 `.drv` files of a channel take seconds rather than minutes. A text may refer
   * to a text earlier in the same batch. Texts already valid are left alone. Returns the
   * store paths in the order given. Everything or nothing is registered.
   */
  async addTextsToStore(texts: readonly TextToAdd[]): Promise<string[]> {
    const { storeDir } = this.config;
    const paths: string[] = [];
    const wanted = new Map<string, { text: TextToAdd; references: string[] }>();
    for (const text of texts) {
      const references = [...new Set(text.references ?? [])].sort();
      const path = makeTextPath(text.name, text.text, { references, storeDir });
      paths.push(path);
      if (wanted.has(path)) continue;
      for (const reference of references)
        if (!wanted.has(reference)) this.requirePathInfo(reference);
      wanted.set(path, { text, references });
    }
    for (const path of wanted.keys()) if (this.db.isValidPath(path)) wanted.delete(path);
    if (wanted.size === 0) return paths;
    const unlock = await this.lockPaths([...wanted.keys()]);
    const written: { temporary: string; path: string }[] = [];
    try {
      for (const path of wanted.keys()) if (this.db.isValidPath(path)) wanted.delete(path);
      const registrations: Registration[] = [];
      for (const [path, { text, references }] of wanted) {
        const temporary = this.temporaryPathFor(path);
        written.push({ temporary, path });
        writeFileSync(temporary, text.text, { flag: "wx", mode: 0o444 });
        lutimesSync(temporary, 1, 1);
        const bytes = typeof text.text === "string" ? Buffer.from(text.text) : text.text;
        const nar = narOfRegularFile(bytes);
        registrations.push({
          info: {
            path,
            narHash: formatHashNix32(hashBytes("sha256", nar)),
            narSize: nar.length,
            references,
            ca: formatContentAddress({ method: "text", hash: hashBytes("sha256", bytes) }),
          },
          derivationOutputs: path.endsWith(".drv") ? derivationOutputsOf(bytes) : undefined,
        });
      }
      await flushFiles(
        this.config.realStoreDir,
        written.map((entry) => entry.temporary),
      );
      for (const { temporary, path } of written) {
        const real = this.realPath(path);
        if (existsSync(real)) removeTree(real);
        renameSync(temporary, real);
      }
      this.db.registerValidPaths(registrations);
      written.length = 0;
    } finally {
      for (const { temporary, path } of written) {
        removeTree(temporary);
        // Renamed but not registered (the transaction failed): an invalid leftover.
        if (!this.db.isValidPath(path)) removeTree(this.realPath(path));
      }
      unlock();
    }
    return paths;
  }

  /**
   * Restores a NAR as store path `info.path`, checking it against `info.narHash` (and
   * `narSize` when given) while it streams; registers it only when everything matches.
   * A path that is already valid is left alone (the stream is drained).
   */
  async addNarToStore(nar: AsyncIterable<Uint8Array>, info: IncomingPathInfo): Promise<void> {
    this.realPath(info.path); // validates the path
    const drain = async () => {
      for await (const _chunk of nar) {
        // the caller's stream must be consumed either way
      }
    };
    await this.#addUnderLock(
      info.path,
      async (temporary) => {
        for (const reference of info.references) {
          if (reference !== info.path) this.requirePathInfo(reference);
        }
        const tee = hashingTee(nar);
        const writeAhead = new BackgroundSync(this.config.realStoreDir, SYNC_AHEAD_BYTES);
        try {
          // Restored with the store's metadata already: no canonicalisation pass after.
          await restoreNar(writeAhead.watch(tee.chunks), temporary, {
            writeBackBytes: WRITE_BACK_BYTES,
            canonical: true,
          });
        } finally {
          await writeAhead.settled();
        }
        const { hash, size } = tee.result();
        const actual = formatHashNix32(hash);
        if (actual !== info.narHash) {
          throw new StoreError(
            "HASH_MISMATCH",
            `NAR of ${info.path} has hash ${actual}, expected ${info.narHash}`,
          );
        }
        if (info.narSize !== undefined && info.narSize !== size) {
          throw new StoreError(
            "SIZE_MISMATCH",
            `NAR of ${info.path} is ${size} bytes, expected ${info.narSize}`,
          );
        }
        return { info: { ...info, narSize: size }, canonical: true };
      },
      drain,
    );
  }

  /**
   * The one way into the store. Under the path's lock, unless the path is valid by then
   * (`ifValid` runs instead), `produce` writes the complete tree at a temporary name beside
   * its final place and says what to register; the tree is then canonicalised, flushed,
   * renamed into place and registered. On any failure the temporary tree is removed.
   */
  async #addUnderLock(
    path: string,
    produce: (temporary: string) => Promise<NewPathInfo | ProducedTree>,
    ifValid?: () => Promise<void>,
  ): Promise<void> {
    const unlock = await this.lockPaths([path]);
    try {
      if (this.db.isValidPath(path)) {
        await ifValid?.();
        return;
      }
      const temporary = this.temporaryPathFor(path);
      try {
        const produced = await produce(temporary);
        const info = "info" in produced ? produced.info : produced;
        if (!("canonical" in produced && produced.canonical)) canonicalisePathMetadata(temporary);
        await flushTree(temporary);
        this.commitPath(temporary, info, this.derivationOutputsOfFile(path, temporary), {
          flushed: true,
        });
      } catch (error) {
        removeTree(temporary);
        throw error;
      }
    } finally {
      unlock();
    }
  }

  /** Names in the real store directory that are Kiln's own leftovers (temporary copies, locks). */
  static isLeftoverName(name: string): boolean {
    return LEFTOVER.test(name);
  }
}

/** Output name → path of a `.drv` text, or undefined when it is not a derivation. */
function derivationOutputsOf(bytes: Uint8Array): Map<string, string> | undefined {
  try {
    const drv = parseDerivation(bytes);
    return new Map([...drv.outputs].map(([name, output]) => [name, output.path]));
  } catch {
    return undefined;
  }
}

async function* readFileChunks(path: string): AsyncGenerator<Uint8Array> {
  const { createReadStream } = await import("node:fs");
  yield* createReadStream(path);
}
