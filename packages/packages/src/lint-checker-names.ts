/** `kiln lint -c NAME,…`: checker names checked against the known checkers. */
import { lintCheckers } from "./lint-checkers.ts";
import { PackageError } from "./package-error.ts";

/**
 * The names given, in their order, each checked; every checker's name when none is given.
 * @example lintCheckerNames(["synopsis", "license"])
 */
export function lintCheckerNames(names?: readonly string[]): string[] {
  const known = lintCheckers.map((checker) => checker.name);
  if (!names) return known;
  for (const name of names) {
    if (!known.includes(name))
      throw new PackageError(`unknown lint checker ${JSON.stringify(name)}`, {
        hint: `checkers: ${known.join(", ")}`,
      });
  }
  return [...names];
}
