/** Finding packages by `NAME` or `NAME@VERSION`, as `guix build hello@2.12` does. */

import type { Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

/** Compares versions segment by segment, numbers numerically: 2.10 > 2.9. */
export function compareVersions(a: string, b: string): number {
  const left = a.split(/[.-]/);
  const right = b.split(/[.-]/);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? "";
    const y = right[i] ?? "";
    const order =
      /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return Math.sign(order);
  }
  return 0;
}

/**
 * The package named by `spec`: the newest version of NAME, or the newest whose version
 * is VERSION or starts with `VERSION.` (`hello@2` picks 2.12).
 * @example findPackage(packages, "hello@2.0")
 */
export function findPackage<P extends Pick<Package, "name" | "version"> = Package>(
  packages: readonly P[],
  spec: string,
): P {
  const at = spec.lastIndexOf("@");
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : undefined;
  const named = packages.filter((pkg) => pkg.name === name);
  if (named.length === 0) throw new PackageError(`unknown package ${JSON.stringify(name)}`);
  const matching = named.filter(
    (pkg) =>
      version === undefined || pkg.version === version || pkg.version.startsWith(`${version}.`),
  );
  if (matching.length === 0)
    throw new PackageError(`package ${name} has no version ${version}`, {
      hint: `versions: ${named.map((pkg) => pkg.version).join(", ")}`,
    });
  return matching.reduce((best, pkg) =>
    compareVersions(pkg.version, best.version) > 0 ? pkg : best,
  );
}
