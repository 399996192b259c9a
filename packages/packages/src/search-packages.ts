/** `kiln search`: packages matching every regexp, ranked as `guix search` ranks them. */
import { compareVersions } from "./find-package.ts";
import type { Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

/** How much a match in each field weighs (name first, then synopsis, then description). */
const WEIGHTS = { name: 4, synopsis: 3, description: 2 } as const;

/** What search reads of a package: a Package, or the evaluation sandbox's summary of one. */
export type Searchable = Pick<Package, "name" | "version" | "synopsis" | "description">;

export interface SearchResult<P extends Searchable = Package> {
  readonly package: P;
  readonly relevance: number;
}

/**
 * Packages in which every regexp matches the name, synopsis or description; relevance is
 * the weighted count of matches. Sorted by relevance, then name, then newest version first.
 * Regexps are case-insensitive.
 * @example searchPackages(packages, ["hello"])[0]?.package.name // "hello"
 */
export function searchPackages<P extends Searchable = Package>(
  packages: readonly P[],
  patterns: readonly string[],
): SearchResult<P>[] {
  const regexps = patterns.map((pattern) => {
    try {
      return new RegExp(pattern, "gi");
    } catch (cause) {
      throw new PackageError(`invalid regular expression ${JSON.stringify(pattern)}`, { cause });
    }
  });
  const results: SearchResult<P>[] = [];
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
