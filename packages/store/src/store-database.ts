/**
 * The store database: valid paths, references, derivation outputs and the failed-build
 * cache, in SQLite (WAL mode, so readers never wait for a writer). The schema follows
 * Nix's so the concepts map one to one. A path becomes valid together with its
 * references in one transaction, and only after its files are complete.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { NewPathInfo, PathInfo } from "./path-info.ts";
import { StoreError } from "./store-error.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ValidPaths (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT UNIQUE NOT NULL,
  hash TEXT NOT NULL,
  registrationTime INTEGER NOT NULL,
  deriver TEXT,
  narSize INTEGER NOT NULL,
  ultimate INTEGER NOT NULL DEFAULT 0,
  sigs TEXT NOT NULL DEFAULT '',
  ca TEXT
);
CREATE TABLE IF NOT EXISTS Refs (
  referrer INTEGER NOT NULL REFERENCES ValidPaths(id) ON DELETE CASCADE,
  reference INTEGER NOT NULL REFERENCES ValidPaths(id) ON DELETE RESTRICT,
  PRIMARY KEY (referrer, reference)
);
CREATE INDEX IF NOT EXISTS IndexReference ON Refs(reference);
CREATE TABLE IF NOT EXISTS DerivationOutputs (
  drv INTEGER NOT NULL REFERENCES ValidPaths(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  path TEXT NOT NULL,
  PRIMARY KEY (drv, id)
);
CREATE INDEX IF NOT EXISTS IndexDerivationOutputs ON DerivationOutputs(path);
CREATE TABLE IF NOT EXISTS FailedPaths (
  path TEXT PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL
);
`;

interface PathRow {
  id: number;
  path: string;
  hash: string;
  registrationTime: number;
  deriver: string | null;
  narSize: number;
  ultimate: number;
  sigs: string;
  ca: string | null;
}

/** One registration: the path, and the outputs if it is a derivation. */
export interface Registration {
  readonly info: NewPathInfo;
  /** For a `.drv`: output name → output path, recorded in DerivationOutputs. */
  readonly derivationOutputs?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

export class StoreDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  /** Opens (creating if needed) the database at `file`; ":memory:" works for tests. */
  constructor(file: string) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file, { timeout: 60_000 });
    this.#db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    );
    this.#db.exec(SCHEMA);
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.#db.close();
  }

  /** Runs `body` in an IMMEDIATE transaction (takes the write lock up front, so no deadlock on upgrade). */
  transaction<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  isValidPath(path: string): boolean {
    return this.#statement("SELECT 1 FROM ValidPaths WHERE path = ?").get(path) !== undefined;
  }

  #row(path: string): PathRow | undefined {
    return this.#statement("SELECT * FROM ValidPaths WHERE path = ?").get(path) as
      | PathRow
      | undefined;
  }

  /** The references of a valid path (full paths, sorted). */
  references(path: string): string[] {
    return (
      this.#statement(
        "SELECT r.path AS path FROM Refs JOIN ValidPaths p ON p.id = Refs.referrer JOIN ValidPaths r ON r.id = Refs.reference WHERE p.path = ? ORDER BY r.path",
      ).all(path) as { path: string }[]
    ).map((row) => row.path);
  }

  /** The valid paths that refer to `path` (sorted). */
  referrers(path: string): string[] {
    return (
      this.#statement(
        "SELECT p.path AS path FROM Refs JOIN ValidPaths p ON p.id = Refs.referrer JOIN ValidPaths r ON r.id = Refs.reference WHERE r.path = ? ORDER BY p.path",
      ).all(path) as { path: string }[]
    ).map((row) => row.path);
  }

  queryPathInfo(path: string): PathInfo | undefined {
    const row = this.#row(path);
    if (!row) return undefined;
    return {
      path: row.path,
      narHash: row.hash,
      narSize: row.narSize,
      references: this.references(path),
      deriver: row.deriver ?? undefined,
      registrationTime: row.registrationTime,
      ultimate: row.ultimate !== 0,
      sigs: row.sigs === "" ? [] : row.sigs.split(" "),
      ca: row.ca ?? undefined,
    };
  }

  /** The valid path whose hash part is `hashPart`, if any. */
  queryPathFromHashPart(storeDir: string, hashPart: string): string | undefined {
    const prefix = `${storeDir}/${hashPart}`;
    const row = this.#statement(
      "SELECT path FROM ValidPaths WHERE path >= ? ORDER BY path LIMIT 1",
    ).get(prefix) as { path: string } | undefined;
    return row?.path.startsWith(prefix) ? row.path : undefined;
  }

  /** Every valid path, sorted. */
  allValidPaths(): string[] {
    return (
      this.#statement("SELECT path FROM ValidPaths ORDER BY path").all() as { path: string }[]
    ).map((r) => r.path);
  }

  /** Output name → path for a derivation registered with its outputs. */
  derivationOutputs(drvPath: string): Map<string, string> {
    const rows = this.#statement(
      "SELECT d.id AS id, d.path AS path FROM DerivationOutputs d JOIN ValidPaths v ON v.id = d.drv WHERE v.path = ? ORDER BY d.id",
    ).all(drvPath) as { id: string; path: string }[];
    return new Map(rows.map((row) => [row.id, row.path]));
  }

  /** The valid derivations that have `outputPath` among their outputs. */
  validDerivers(outputPath: string): string[] {
    return (
      this.#statement(
        "SELECT v.path AS path FROM DerivationOutputs d JOIN ValidPaths v ON v.id = d.drv WHERE d.path = ? ORDER BY v.path",
      ).all(outputPath) as { path: string }[]
    ).map((row) => row.path);
  }

  /**
   * Registers paths atomically: all become valid with their references, or none does.
   * References may point at each other within the batch, or at themselves; any other
   * reference must already be valid.
   */
  registerValidPaths(registrations: readonly Registration[]): void {
    const now = Math.floor(Date.now() / 1000);
    this.transaction(() => {
      const upsert = this.#statement(
        `INSERT INTO ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, sigs, ca)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET hash = excluded.hash, registrationTime = excluded.registrationTime,
           deriver = excluded.deriver, narSize = excluded.narSize, ultimate = excluded.ultimate,
           sigs = excluded.sigs, ca = excluded.ca`,
      );
      for (const { info } of registrations) {
        upsert.run(
          info.path,
          info.narHash,
          info.registrationTime ?? now,
          info.deriver ?? null,
          info.narSize,
          info.ultimate ? 1 : 0,
          (info.sigs ?? []).join(" "),
          info.ca ?? null,
        );
      }
      const idOf = this.#statement("SELECT id FROM ValidPaths WHERE path = ?");
      const addRef = this.#statement(
        "INSERT OR IGNORE INTO Refs (referrer, reference) VALUES (?, ?)",
      );
      const addOutput = this.#statement(
        "INSERT OR REPLACE INTO DerivationOutputs (drv, id, path) VALUES (?, ?, ?)",
      );
      for (const { info, derivationOutputs } of registrations) {
        const { id } = idOf.get(info.path) as { id: number };
        for (const reference of info.references) {
          const target = idOf.get(reference) as { id: number } | undefined;
          if (!target) {
            throw new StoreError(
              "MISSING_REFERENCE",
              `cannot register ${info.path}: its reference ${reference} is not valid`,
            );
          }
          addRef.run(id, target.id);
        }
        if (derivationOutputs) {
          const entries =
            derivationOutputs instanceof Map
              ? [...derivationOutputs]
              : Object.entries(derivationOutputs);
          for (const [name, path] of entries) addOutput.run(id, name, path);
        }
      }
    });
  }

  /** Adds signatures to a valid path (duplicates ignored). */
  addSignatures(path: string, sigs: readonly string[]): void {
    this.transaction(() => {
      const row = this.#row(path);
      if (!row) throw new StoreError("INVALID_PATH", `path ${path} is not valid`);
      const all = new Set(row.sigs === "" ? [] : row.sigs.split(" "));
      for (const sig of sigs) all.add(sig);
      this.#statement("UPDATE ValidPaths SET sigs = ? WHERE id = ?").run(
        [...all].join(" "),
        row.id,
      );
    });
  }

  /** Removes a path from the valid set; refused while another valid path refers to it. */
  invalidatePath(path: string): void {
    const row = this.#row(path);
    if (!row) return;
    const referrers = this.referrers(path).filter((p) => p !== path);
    if (referrers.length > 0) {
      throw new StoreError(
        "PATH_IN_USE",
        `cannot invalidate ${path}: ${referrers[0]} refers to it`,
      );
    }
    this.transaction(() => {
      this.#statement("DELETE FROM Refs WHERE referrer = ?").run(row.id);
      this.#statement("DELETE FROM ValidPaths WHERE id = ?").run(row.id);
    });
  }

  /** Records that building `path` failed (the failed-build cache, `--cache-failures`). */
  registerFailedPath(path: string): void {
    this.#statement("INSERT OR REPLACE INTO FailedPaths (path, time) VALUES (?, ?)").run(
      path,
      Math.floor(Date.now() / 1000),
    );
  }

  hasFailedPath(path: string): boolean {
    return this.#statement("SELECT 1 FROM FailedPaths WHERE path = ?").get(path) !== undefined;
  }

  failedPaths(): string[] {
    return (
      this.#statement("SELECT path FROM FailedPaths ORDER BY path").all() as { path: string }[]
    ).map((r) => r.path);
  }

  clearFailedPaths(paths?: readonly string[]): void {
    if (!paths) this.#statement("DELETE FROM FailedPaths").run();
    else
      for (const path of paths) this.#statement("DELETE FROM FailedPaths WHERE path = ?").run(path);
  }
}
