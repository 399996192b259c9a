/**
 * What caches answered about narinfos, kept in SQLite so that `kiln build` after
 * `kiln build` does not ask again: the narinfo text when the cache had one (a positive
 * entry), or the fact that it did not (a negative entry), each until it expires.
 *
 * The raw text is cached, not a verdict: signatures are checked on every use, so a key
 * removed from the ACL takes effect at once.
 *
 * TTLs: positive 36 hours and negative 1 hour by default, as Guix's client does (Nix
 * keeps positives for 30 days). Build farms garbage-collect their caches, so a day and
 * a half bounds how long we trust a narinfo whose nar may be gone; a nar that turns out
 * to be missing also drops its entry at once. A 404 that carries `Cache-Control: max-age`
 * (as `guix publish --negative-ttl` sends) is kept that long instead.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

/** Default lifetime of a cached narinfo, in seconds (36 h, as Guix). */
export const DEFAULT_POSITIVE_TTL = 36 * 3600;
/** Default lifetime of a cached "not there", in seconds (1 h, as Nix and Guix). */
export const DEFAULT_NEGATIVE_TTL = 3600;

/** A cached answer: the narinfo text, or `undefined` when the cache did not have it. */
export interface CachedNarinfo {
  readonly text: string | undefined;
}

export interface NarinfoCacheOptions {
  readonly positiveTtl?: number;
  readonly negativeTtl?: number;
  /** Milliseconds since the epoch (tests move time forward). */
  readonly clock?: () => number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS Narinfos (
  cache TEXT NOT NULL,
  hashPart TEXT NOT NULL,
  narinfo TEXT,
  expires INTEGER NOT NULL,
  PRIMARY KEY (cache, hashPart)
) WITHOUT ROWID;
`;

export class NarinfoCache {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #forget: StatementSync;
  readonly #positiveTtl: number;
  readonly #negativeTtl: number;
  readonly #clock: () => number;

  /** Opens (creating when needed) the cache at `file`; `":memory:"` keeps it in this process. */
  constructor(file: string, options: NarinfoCacheOptions = {}) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file, { timeout: 10_000 });
    // WAL with synchronous=NORMAL: no fsync per answer; a crash loses at worst the last
    // answers (a re-query), never the database.
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    this.#db.exec(SCHEMA);
    this.#get = this.#db.prepare(
      "SELECT narinfo FROM Narinfos WHERE cache = ? AND hashPart = ? AND expires > ?",
    );
    this.#put = this.#db.prepare(
      "INSERT OR REPLACE INTO Narinfos (cache, hashPart, narinfo, expires) VALUES (?, ?, ?, ?)",
    );
    this.#forget = this.#db.prepare("DELETE FROM Narinfos WHERE cache = ? AND hashPart = ?");
    this.#positiveTtl = options.positiveTtl ?? DEFAULT_POSITIVE_TTL;
    this.#negativeTtl = options.negativeTtl ?? DEFAULT_NEGATIVE_TTL;
    this.#clock = options.clock ?? Date.now;
  }

  /** The unexpired answer of `cache` about `hashPart`, or undefined when we must ask. */
  get(cache: string, hashPart: string): CachedNarinfo | undefined {
    const row = this.#get.get(cache, hashPart, this.#clock()) as
      | { narinfo: string | null }
      | undefined;
    return row === undefined ? undefined : { text: row.narinfo ?? undefined };
  }

  /** Records a narinfo the cache served. */
  putPresent(cache: string, hashPart: string, text: string): void {
    this.#put.run(cache, hashPart, text, this.#clock() + this.#positiveTtl * 1000);
  }

  /** Records that the cache has no narinfo for `hashPart`, for `ttl` seconds (default: the negative TTL). */
  putAbsent(cache: string, hashPart: string, ttl?: number): void {
    this.#put.run(cache, hashPart, null, this.#clock() + (ttl ?? this.#negativeTtl) * 1000);
  }

  /** Drops what we know (a nar that 404s makes its narinfo stale). */
  forget(cache: string, hashPart: string): void {
    this.#forget.run(cache, hashPart);
  }

  close(): void {
    this.#db.close();
  }
}
