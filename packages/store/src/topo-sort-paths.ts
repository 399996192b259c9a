/**
 * Orders store paths so that every path comes after the paths it refers to (within the
 * set), as `nix-store --export` writes them and as importing needs them. Ties are broken
 * by path name, so the order is deterministic. Self-references are ignored.
 * @example topoSortPaths(["/s/b", "/s/a"], (p) => (p === "/s/b" ? ["/s/a"] : [])) // ["/s/a", "/s/b"]
 */
import { StoreError } from "./store-error.ts";

export function topoSortPaths(
  paths: Iterable<string>,
  referencesOf: (path: string) => readonly string[],
): string[] {
  const set = new Set(paths);
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  for (const start of [...set].sort()) {
    if (state.has(start)) continue;
    // Iterative depth-first search: (path, its remaining references).
    const stack: Array<[string, string[]]> = [
      [
        start,
        [...referencesOf(start)]
          .filter((r) => r !== start && set.has(r))
          .sort()
          .reverse(),
      ],
    ];
    state.set(start, "visiting");
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const next = top[1].pop();
      if (next === undefined) {
        stack.pop();
        state.set(top[0], "done");
        order.push(top[0]);
        continue;
      }
      const seen = state.get(next);
      if (seen === "done") continue;
      if (seen === "visiting")
        throw new StoreError("CYCLE", `reference cycle between ${top[0]} and ${next}`);
      state.set(next, "visiting");
      stack.push([
        next,
        [...referencesOf(next)]
          .filter((r) => r !== next && set.has(r))
          .sort()
          .reverse(),
      ]);
    }
  }
  return order;
}
