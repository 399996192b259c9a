/**
 * `kiln lint` over what the evaluation sandbox reported: each package's warnings were
 * computed in the sandbox, except the duplicates check, which compares packages of
 * different modules (perhaps of different evaluator runs) and so is made here.
 */
import type { EvaluatedPackage } from "./evaluate-channel.ts";
import { duplicateMessages } from "./lint-checkers.ts";
import type { LintWarning } from "./lint-packages.ts";

/** The checkers the evaluator runs for `checkers`: all but the duplicates check. */
export function sandboxCheckers(checkers: readonly string[]): string[] {
  return checkers.filter((name) => name !== "duplicates");
}

/**
 * Warnings for `packages`, in package order, then in the order of `checkers` (as
 * lintPackages gives them); `all` is the whole collection, for the duplicates check.
 * @example lintEvaluated(packages, { all: packages, checkers: lintCheckerNames() })
 */
export function lintEvaluated(
  packages: readonly EvaluatedPackage[],
  options: { readonly all: readonly EvaluatedPackage[]; readonly checkers: readonly string[] },
): LintWarning[] {
  const order = (checker: string) => options.checkers.indexOf(checker);
  const warnings: LintWarning[] = [];
  for (const pkg of packages) {
    const found = [...(pkg.warnings ?? [])];
    if (options.checkers.includes("duplicates"))
      for (const message of duplicateMessages(pkg, options.all))
        found.push({ checker: "duplicates", message });
    // A stable sort: each checker's messages stay in the order it gave them.
    found.sort((a, b) => order(a.checker) - order(b.checker));
    for (const { checker, message } of found)
      warnings.push({
        checker,
        package: pkg.name,
        version: pkg.version,
        location: pkg.location,
        message,
      });
  }
  return warnings;
}
