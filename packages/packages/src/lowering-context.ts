/**
 * What one lowering run shares: the target, the seeds, the store written to (if any), and
 * caches so that a package used by many others is lowered once. One context per system
 * and store; it is not valid for another.
 */
import type { Derivation } from "@kiln/formats/derivation";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { DEFAULT_STORE_DIR } from "@kiln/formats/store-path";
import type { Bootstrap } from "./bootstrap-seeds.ts";
import type { Package } from "./package.ts";

/**
 * What lowering needs of a store: adding texts (.drv, builders) and local sources. A
 * LocalStore is one; so is an adapter over a daemon connection (the CLI's
 * daemonStoreWriter), as `guix build` lowers on the client and sends the results to
 * guix-daemon. A store that can add texts in batches (`addTextsToStore`, the local store:
 * one flush and one transaction) gets them all at once, on `flush`; any other gets each
 * text as it is made, which is dependency order.
 */
export interface StoreWriter {
  addTextToStore(name: string, text: string, references: readonly string[]): Promise<string>;
  /** Adds a file or tree (recursive sha256), returning its store path. */
  addToStore(source: string, options: { readonly name?: string }): Promise<string>;
  addTextsToStore?(
    texts: readonly { name: string; text: string; references?: readonly string[] }[],
  ): Promise<string[]>;
}

/**
 * A store that package names are lowered into (`kiln build NAME`, `kiln package -i`): a
 * writer that also says which paths are valid (synchronously for a local store, through
 * the daemon otherwise) and which store directory it is for.
 */
export interface LoweringStore extends StoreWriter {
  isValidPath(path: string): boolean | Promise<boolean>;
  readonly config: { readonly storeDir: string };
}

export interface LowerOptions {
  /** The system to lower for, e.g. `x86_64-linux`. */
  readonly system: string;
  /** Logical store directory; `/gnu/store` by default. */
  readonly storeDir?: string;
  /** The seeds' store paths (bootstrapFor(storeDir) when absent). */
  readonly bootstrap: Bootstrap;
  /** Where `.drv` files and sources are written, dependencies first; none: compute paths only. */
  readonly store?: StoreWriter;
}

export interface LoweredPackage {
  readonly drvPath: string;
  /** The derivation, output paths filled in. */
  readonly derivation: Derivation;
  /** Output name → store path. */
  readonly outputs: Readonly<Record<string, string>>;
}

export interface LoweringContext {
  readonly system: string;
  readonly storeDir: string;
  readonly bootstrap: Bootstrap;
  readonly store: StoreWriter | undefined;
  /** Derivations lowered so far, by `.drv` path: the resolver of hashDerivationModulo. */
  readonly derivations: Map<string, Derivation>;
  readonly moduloHashes: Map<string, Uint8Array>;
  readonly packages: WeakMap<Package, Promise<LoweredPackage>>;
  /**
   * Adds a text to the store (or computes its path when there is no store). With a store
   * that adds in batches, the text is only queued: its path is valid after `flush`.
   */
  addText(name: string, text: string, references: readonly string[]): Promise<string>;
  /** Writes the queued texts (dependencies first, in one batch); a no-op without a store. */
  flush(): Promise<void>;
}

/**
 * A fresh context; pass it to lowerPackage for every package of one run, then `flush` it
 * before using the written `.drv` files.
 */
export function createLoweringContext(options: LowerOptions): LoweringContext {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const store = options.store;
  const pathOf = (name: string, text: string, references: readonly string[]) =>
    makeTextPath(name, text, { references: [...new Set(references)].sort(), storeDir });
  // Texts are queued in the order they are made, which puts every text after the texts it
  // refers to (a package's inputs are lowered before it).
  let queue: { name: string; text: string; references: readonly string[] }[] = [];
  return {
    system: options.system,
    storeDir,
    bootstrap: options.bootstrap,
    store,
    derivations: new Map(),
    moduloHashes: new Map(),
    packages: new WeakMap(),
    addText: async (name, text, references) => {
      if (!store) return pathOf(name, text, references);
      if (!store.addTextsToStore) return store.addTextToStore(name, text, references);
      queue.push({ name, text, references });
      return pathOf(name, text, references);
    },
    flush: async () => {
      if (!store?.addTextsToStore || queue.length === 0) return;
      const batch = queue;
      queue = [];
      await store.addTextsToStore(batch);
    },
  };
}
