/**
 * The paths a set of roots keeps alive: their closure under references, plus the edges
 * Nix's and Guix's `gc-keep-derivations` and `gc-keep-outputs` settings add. Pure.
 */
import type { StoreGraph } from "./store-graph.ts";

export interface ClosureOptions {
  /** Keep the outputs of live derivations (`--gc-keep-outputs`; default false, as Guix). */
  readonly keepOutputs?: boolean;
  /** Keep the derivations of live outputs (`--gc-keep-derivations`; default true, as Guix). */
  readonly keepDerivations?: boolean;
}

/**
 * Adds to `live` every path reachable from `roots` (roots that are not valid are
 * ignored, as Nix ignores roots pointing at invalid paths). Paths already in `live` are
 * not walked again, so callers walk their strongest edge set first.
 * @example addLiveClosure(graph, ["/s/a"], new Set()) // Set { "/s/a", …its closure }
 */
export function addLiveClosure(
  graph: StoreGraph,
  roots: Iterable<string>,
  live: Set<string>,
  options: ClosureOptions = {},
): Set<string> {
  const keepOutputs = options.keepOutputs ?? false;
  const keepDerivations = options.keepDerivations ?? true;
  const pending: string[] = [];
  for (const root of roots) if (graph.isValid(root)) pending.push(root);
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (live.has(path)) continue;
    live.add(path);
    for (const reference of graph.references(path)) {
      if (!live.has(reference)) pending.push(reference);
    }
    if (keepDerivations) {
      const drv = graph.deriver(path);
      if (drv !== undefined && !live.has(drv)) pending.push(drv);
    }
    if (keepOutputs && path.endsWith(".drv")) {
      for (const output of graph.outputs(path)) if (!live.has(output)) pending.push(output);
    }
  }
  return live;
}
