/** `kiln search`: packages matching every regexp, ranked as `guix search` ranks them. */
import { compareVersions } from "./find-package.ts";
import type { Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

/** How much a match in each field weighs (name first, then synopsis, then description). */
const WEIGHTS = { name: 4, synopsis: 3, description: 2 } as const;

export interface SearchResult {
  readonly package: Package;
  readonly relevance: number;
}

/**
 * Packages in which every regexp matches the name, synopsis or description; relevance is
 * the weighted count of matches. Sorted by relevance, then name, then newest version first.
 * Regexps are case-insensitive.
 * @example searchPackages(packages, ["hello"])[0]?.package.name // "hello"
 */
export function searchPackages(
  packages: readonly Package[],
  patterns: readonly string[],
): SearchResult[] {
  const regexps = patterns.map((pattern) => {
    try {
      return new RegExp(pattern, "gi");
    } catch (cause) {
      throw new PackageError(`invalid regular expression ${JSON.stringify(pattern)}`, { cause });
    }
  });
  const results: SearchResult[] = [];
  for (const pkg of packages) {
    let relevance = 0;
    let everyMatches = true;
    for (const regexp of regexps) {
      let score = 0;
      for (const field of ["name", "synopsis", "description"] as const) {
        score += (pkg[field].match(regexp)?.length ?? 0) * WEIGHTS[field];
      }
      if (score === 0) everyMatches = false;
      relevance += score;
    }
    if (everyMatches && regexps.length > 0) results.push({ package: pkg, relevance });
  }
  return results.sort(
    (a, b) =>
      b.relevance - a.relevance ||
      (a.package.name < b.package.name ? -1 : a.package.name > b.package.name ? 1 : 0) ||
      compareVersions(b.package.version, a.package.version),
  );
}
