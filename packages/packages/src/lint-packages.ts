/** `kiln lint`: runs checkers over packages and collects warnings for people and the data service. */

import { lintCheckerNames } from "./lint-checker-names.ts";
import { type LintChecker, lintCheckers } from "./lint-checkers.ts";
import type { Package } from "./package.ts";

export interface LintWarning {
  readonly checker: string;
  readonly package: string;
  readonly version: string;
  /** The module the package is defined in, when known. */
  readonly location: string | undefined;
  readonly message: string;
}

export interface LintOptions {
  /** Checker names (`-c`); every checker when absent. */
  readonly checkers?: readonly string[];
  /** The whole channel, for checks across packages; `packages` by default. */
  readonly all?: readonly Package[];
  readonly locations?: ReadonlyMap<Package, string>;
}

/**
 * Warnings for `packages`, in package order, then checker order.
 * @example await lintPackages([hello], { checkers: ["synopsis"] })
 */
export async function lintPackages(
  packages: readonly Package[],
  options: LintOptions = {},
): Promise<LintWarning[]> {
  const checkers = lintCheckerNames(options.checkers).map(
    (name) => lintCheckers.find((candidate) => candidate.name === name) as LintChecker,
  );
  const all = options.all ?? packages;
  const warnings: LintWarning[] = [];
  for (const pkg of packages) {
    for (const checker of checkers) {
      for (const message of await checker.check(pkg, all)) {
        warnings.push({
          checker: checker.name,
          package: pkg.name,
          version: pkg.version,
          location: options.locations?.get(pkg) ?? pkg.location,
          message,
        });
      }
    }
  }
  return warnings;
}
