/**
 * The reachability core of the collector: given the store graph, the roots and the
 * settings, which valid paths are live and which are dead. Pure, so that every rule is
 * unit-tested without a store.
 */
import { addLiveClosure, type ClosureOptions } from "./live-closure.ts";
import type { StoreGraph } from "./store-graph.ts";

export interface LivenessInput extends ClosureOptions {
  /** Store paths held by roots: gcroots, profile generations, temporary roots. */
  readonly roots: Iterable<string>;
  /**
   * Paths locked right now (being built, added or substituted). A locked path is live;
   * so is every derivation that records it as an output, with that derivation's whole
   * input closure including the outputs of its input derivations, because a build in
   * progress reads them even if the client that started it has not rooted them.
   */
  readonly busy?: Iterable<string>;
}

export interface Liveness {
  readonly live: Set<string>;
  /** The valid paths that are not live, sorted. */
  readonly dead: string[];
}

/**
 * @example
 * const { live, dead } = computeLiveness(graph, { roots: ["/gnu/store/…-profile"] });
 */
export function computeLiveness(graph: StoreGraph, input: LivenessInput): Liveness {
  const live = new Set<string>();
  // Builds in progress first: their edges are the strongest (keep outputs everywhere).
  const busy = [...(input.busy ?? [])];
  const builds = busy.flatMap((path) => graph.producers(path));
  addLiveClosure(graph, [...busy, ...builds], live, {
    keepOutputs: true,
    keepDerivations: input.keepDerivations,
  });
  addLiveClosure(graph, input.roots, live, input);
  const dead = graph.paths.filter((path) => !live.has(path)).sort();
  return { live, dead };
}
