/**
 * The order in which dead paths are deleted: referrers before the paths they refer to,
 * so that at every moment each valid path's references are valid too (a crash between
 * two deletions leaves a consistent store). Pure.
 */
import { topoSortPaths } from "@kiln/store/topo-sort-paths";

/**
 * `paths` in reverse topological order under `referencesOf` (self-references ignored).
 * @example deletionOrder(["/s/lib", "/s/app"], (p) => (p === "/s/app" ? ["/s/lib"] : [])) // ["/s/app", "/s/lib"]
 */
export function deletionOrder(
  paths: Iterable<string>,
  referencesOf: (path: string) => readonly string[],
): string[] {
  return topoSortPaths(paths, referencesOf).reverse();
}
