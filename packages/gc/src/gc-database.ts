/**
 * The collector's own connection to the store database. The store's StoreDatabase answers
 * one path at a time, which is right for clients but would cost the collector several
 * hundred thousand queries on a large store; here the whole graph is read in three
 * queries, and dead paths are unregistered a batch per transaction.
 *
 * This couples @kiln/gc to the schema in store-database.ts (ValidPaths, Refs,
 * DerivationOutputs, with foreign keys): these two methods belong in StoreDatabase, and
 * should move there. Both keep its invariants: a path leaves the valid set only when no
 * other valid path refers to it, checked inside the write transaction.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { databasePath, type StoreConfig } from "@kiln/store/store-config";
import type { StoreGraph } from "./store-graph.ts";

export class GcDatabase {
  readonly #db: DatabaseSync;

  constructor(config: Pick<StoreConfig, "stateDir">) {
    this.#db = new DatabaseSync(databasePath(config), { timeout: 60_000 });
    this.#db.exec("PRAGMA foreign_keys = ON;");
  }

  close(): void {
    this.#db.close();
  }

  /** A snapshot of the valid paths and their edges. */
  readGraph(): StoreGraph {
    const rows = this.#db.prepare("SELECT id, path, deriver, narSize FROM ValidPaths").all() as {
      id: number;
      path: string;
      deriver: string | null;
      narSize: number;
    }[];
    const pathOf = new Map<number, string>();
    const idOf = new Map<string, number>();
    const derivers = new Map<number, string>();
    const sizes = new Map<number, number>();
    for (const row of rows) {
      pathOf.set(row.id, row.path);
      idOf.set(row.path, row.id);
      if (row.deriver) derivers.set(row.id, row.deriver);
      sizes.set(row.id, row.narSize);
    }
    const references = new Map<number, string[]>();
    const refRows = this.#db.prepare("SELECT referrer, reference FROM Refs").all() as {
      referrer: number;
      reference: number;
    }[];
    for (const { referrer, reference } of refRows) {
      const target = pathOf.get(reference);
      if (target === undefined) continue;
      let list = references.get(referrer);
      if (!list) {
        list = [];
        references.set(referrer, list);
      }
      list.push(target);
    }
    const outputs = new Map<number, string[]>();
    const producers = new Map<string, string[]>();
    const outRows = this.#db.prepare("SELECT drv, path FROM DerivationOutputs").all() as {
      drv: number;
      path: string;
    }[];
    for (const { drv, path } of outRows) {
      const drvPath = pathOf.get(drv);
      if (drvPath === undefined) continue;
      const by = producers.get(path) ?? [];
      by.push(drvPath);
      producers.set(path, by);
      if (!idOf.has(path)) continue;
      let list = outputs.get(drv);
      if (!list) {
        list = [];
        outputs.set(drv, list);
      }
      list.push(path);
    }
    const none: readonly string[] = [];
    const outputsOf = (drvPath: string) => {
      const id = idOf.get(drvPath);
      return id === undefined ? none : (outputs.get(id) ?? none);
    };
    return {
      paths: rows.map((row) => row.path),
      isValid: (path) => idOf.has(path),
      references(path) {
        const id = idOf.get(path);
        return id === undefined ? none : (references.get(id) ?? none);
      },
      deriver(path) {
        const id = idOf.get(path);
        const drv = id === undefined ? undefined : derivers.get(id);
        return drv !== undefined && outputsOf(drv).includes(path) ? drv : undefined;
      },
      outputs: outputsOf,
      producers: (path) => producers.get(path) ?? none,
      narSize(path) {
        const id = idOf.get(path);
        return id === undefined ? 0 : (sizes.get(id) ?? 0);
      },
    };
  }

  /**
   * Unregisters `paths`, given referrers first, in one transaction. A path that another
   * valid path (outside those unregistered before it) still refers to is kept. Returns
   * the paths unregistered.
   */
  invalidate(paths: readonly string[]): string[] {
    if (paths.length === 0) return [];
    const done: string[] = [];
    // One statement per path: the path goes, with its outgoing references (ON DELETE
    // CASCADE), only if nothing refers to it. A self-reference counts as a referrer here,
    // so a path that has one takes the longer way (drop it first, then the path).
    const dropUnreferred = this.#statement(
      "DELETE FROM ValidPaths WHERE path = ? AND NOT EXISTS (SELECT 1 FROM Refs WHERE reference = ValidPaths.id)",
    );
    const idOf = this.#statement("SELECT id FROM ValidPaths WHERE path = ?");
    const referredByOthers = this.#statement(
      "SELECT 1 FROM Refs WHERE reference = ? AND referrer <> ? LIMIT 1",
    );
    const dropRefs = this.#statement("DELETE FROM Refs WHERE referrer = ?");
    const dropPath = this.#statement("DELETE FROM ValidPaths WHERE id = ?");
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const path of paths) {
        if (dropUnreferred.run(path).changes === 1) {
          done.push(path);
          continue;
        }
        const row = idOf.get(path) as { id: number } | undefined;
        if (!row) continue; // already gone
        if (referredByOthers.get(row.id, row.id) !== undefined) continue;
        dropRefs.run(row.id);
        dropPath.run(row.id);
        done.push(path);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return done;
  }

  /** True when `path` is valid now (not in the snapshot: in the database). */
  isValidPath(path: string): boolean {
    return this.#statement("SELECT 1 FROM ValidPaths WHERE path = ?").get(path) !== undefined;
  }

  readonly #statements = new Map<string, StatementSync>();

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}
