/**
 * Telling a package name (`hello`, `hello@2.12`) from a derivation (`./x.drv`, a `.drv`
 * store path) on a command line. On its own so that a command can tell them apart
 * without loading the package layer.
 */

/** True for a build argument naming a package rather than a `.drv` file or store path. */
export function isPackageSpec(arg: string): boolean {
  return !arg.endsWith(".drv") && !arg.includes("/");
}
