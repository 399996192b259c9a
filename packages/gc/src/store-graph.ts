/**
 * What the reachability core needs to know about the store: the valid paths and the
 * edges between them. The collector loads it from the database in three queries
 * (gc-database.ts); tests build it from plain maps (`storeGraphOf`).
 */
export interface StoreGraph {
  /** Every valid path. */
  readonly paths: readonly string[];
  isValid(path: string): boolean;
  /** The valid paths `path` refers to (may include itself). */
  references(path: string): readonly string[];
  /**
   * The derivation that produced `path`, when it is valid and records `path` among its
   * outputs (the edge `keep-derivations` follows).
   */
  deriver(path: string): string | undefined;
  /** The valid outputs of a derivation (the edge `keep-outputs` follows). */
  outputs(drvPath: string): readonly string[];
  /** The valid derivations that record `path` among their outputs (valid or not: being built). */
  producers(path: string): readonly string[];
  /** NAR size of a valid path, an estimate of what deleting it frees. */
  narSize(path: string): number;
}

/** The graph of a store described by plain data: a path's `deriver` and a drv's `outputs`. */
export interface StoreGraphData {
  readonly references: Readonly<Record<string, readonly string[]>>;
  readonly derivers?: Readonly<Record<string, string>>;
  readonly outputs?: Readonly<Record<string, readonly string[]>>;
  readonly narSizes?: Readonly<Record<string, number>>;
}

/**
 * Builds a StoreGraph from plain data (the keys of `references` are the valid paths),
 * following the store's rules: derivers and outputs only count when valid and when the
 * derivation records the output.
 * @example storeGraphOf({ references: { "/s/a": ["/s/b"], "/s/b": [] } }).references("/s/a") // ["/s/b"]
 */
export function storeGraphOf(data: StoreGraphData): StoreGraph {
  const valid = new Set(Object.keys(data.references));
  const outputsOf = (drv: string) =>
    valid.has(drv) ? (data.outputs?.[drv] ?? []).filter((o) => valid.has(o)) : [];
  const producers = new Map<string, string[]>();
  for (const drv of valid) {
    for (const output of data.outputs?.[drv] ?? []) {
      const list = producers.get(output) ?? [];
      list.push(drv);
      producers.set(output, list);
    }
  }
  return {
    paths: [...valid].sort(),
    isValid: (path) => valid.has(path),
    references: (path) => (data.references[path] ?? []).filter((r) => valid.has(r)),
    deriver(path) {
      const drv = data.derivers?.[path];
      return drv !== undefined && outputsOf(drv).includes(path) ? drv : undefined;
    },
    outputs: outputsOf,
    producers: (path) => producers.get(path) ?? [],
    narSize: (path) => data.narSizes?.[path] ?? 0,
  };
}
