/**
 * Answers narinfo requests: from memory when it can (signing costs about a millisecond,
 * a lookup in memory a microsecond), else from the baked cache, else made live from the
 * store. Memory entries expire after a short while, so an item that leaves the store
 * stops being advertised soon after.
 *
 * With a baked cache, an item below the bypass threshold that is not baked yet gets a
 * live narinfo marked temporary, as guix publish does: it lacks the compressed nars'
 * FileSize and FileHash, so clients are told to keep it only 5 minutes (by then the
 * baked one, with them, has replaced it).
 */
import { actualCompressions } from "./actual-compressions.ts";
import type { Compression } from "./compression.ts";
import { makeNarinfo, type NarinfoSigner } from "./make-narinfo.ts";
import type { NarCache } from "./nar-cache.ts";
import { narGroups } from "./nar-groups.ts";
import type { PublishStore } from "./publish-store.ts";

export type NarinfoLookup =
  | {
      readonly kind: "found";
      readonly text: string;
      readonly body: Buffer;
      /** Made live while the item bakes: clients should not keep it long. */
      readonly temporary: boolean;
    }
  | { readonly kind: "missing" }
  | { readonly kind: "baking" };

export interface NarinfoSourceOptions {
  readonly store: PublishStore;
  readonly signer: NarinfoSigner;
  readonly compressions: readonly Compression[];
  readonly narPath: string;
  readonly cache?: NarCache;
  /** How long a narinfo stays in memory (default 60 s). */
  readonly memoryMs?: number;
  /** Most narinfos kept in memory (default 50,000, about 50 MB). */
  readonly maxEntries?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

interface Entry {
  readonly found: NarinfoLookup & { kind: "found" };
  readonly expires: number;
}

export class NarinfoSource {
  readonly #options: NarinfoSourceOptions;
  readonly #memory = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: NarinfoSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Keeps a narinfo text in memory (the cache calls this when it has baked one). */
  remember(hashPart: string, text: string, temporary = false): NarinfoLookup & { kind: "found" } {
    const found = { kind: "found", text, body: Buffer.from(text, "utf8"), temporary } as const;
    const max = this.#options.maxEntries ?? 50_000;
    this.#memory.delete(hashPart);
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.#memory.size >= max) this.#memory.delete(this.#memory.keys().next().value!);
    this.#memory.set(hashPart, {
      found,
      expires: this.#now() + (this.#options.memoryMs ?? 60_000),
    });
    return found;
  }

  /**
   * The narinfo for a (validated) hash part.
   * @example source.lookup("qa1w9gdfrba6jl2r57mb3c43863gqywp").kind // "found"
   */
  lookup(hashPart: string): NarinfoLookup {
    const entry = this.#memory.get(hashPart);
    if (entry && entry.expires > this.#now()) return entry.found;
    const { store, cache } = this.#options;
    const path = store.pathFromHashPart(hashPart);
    const info = path === undefined ? undefined : store.pathInfo(path);
    if (!info) {
      this.#memory.delete(hashPart);
      return { kind: "missing" };
    }
    if (cache) {
      const baked = cache.readNarinfo(info);
      if (baked !== undefined) return this.remember(hashPart, baked);
      cache.enqueue(info.path);
      if (!cache.bypasses(info)) return { kind: "baking" };
      // Small items are served live meanwhile, briefly, until the baked one replaces it.
    }
    const { narPath, signer } = this.#options;
    const compressions = actualCompressions(info.path, this.#options.compressions);
    return this.remember(
      hashPart,
      makeNarinfo(info, narGroups(info, compressions, { narPath }), signer),
      cache !== undefined,
    );
  }
}
