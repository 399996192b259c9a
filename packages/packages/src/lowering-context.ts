/**
 * What one lowering run shares: the target, the seeds, the store written to (if any), and
 * caches so that a package used by many others is lowered once. One context per system
 * and store; it is not valid for another.
 */
import type { Derivation } from "@kiln/formats/derivation";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { DEFAULT_STORE_DIR } from "@kiln/formats/store-path";
import type { LocalStore } from "@kiln/store/local-store";
import type { Bootstrap } from "./bootstrap-seeds.ts";
import type { Package } from "./package.ts";

/** What lowering needs of a store: adding texts (.drv, builders) and local sources. */
export type StoreWriter = Pick<LocalStore, "addTextToStore" | "addToStore">;

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
  /** Adds a text to the store (or computes its path when there is no store). */
  addText(name: string, text: string, references: readonly string[]): Promise<string>;
}

/** A fresh context; pass it to lowerPackage for every package of one run. */
export function createLoweringContext(options: LowerOptions): LoweringContext {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const store = options.store;
  return {
    system: options.system,
    storeDir,
    bootstrap: options.bootstrap,
    store,
    derivations: new Map(),
    moduloHashes: new Map(),
    packages: new WeakMap(),
    addText: async (name, text, references) =>
      store
        ? store.addTextToStore(name, text, references)
        : makeTextPath(name, text, { references: [...new Set(references)].sort(), storeDir }),
  };
}
