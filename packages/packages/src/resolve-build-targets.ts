/**
 * What `kiln build` needs from the package layer: package names (`hello`, `hello@2.10`)
 * or a package file (`-f FILE.ts [-A NAME]`) turned into `.drv` store paths, written to
 * the store with everything they depend on.
 */
import { lowerPackage } from "./lower-package.ts";
import { createLoweringContext, type LoweringStore } from "./lowering-context.ts";
import { requireBootstrap } from "./require-bootstrap.ts";
import { type TargetPackageOptions, targetPackages } from "./target-packages.ts";

export interface BuildTargetOptions extends TargetPackageOptions {
  /** A LocalStore, or an adapter over a daemon connection. */
  readonly store: LoweringStore;
  /** The system to lower for, e.g. `x86_64-linux`. */
  readonly system: string;
}

export { isPackageSpec } from "./is-package-spec.ts";

/**
 * Lowers the named packages into the store and returns their `.drv` paths, in argument
 * order (the `-f` package first). The bootstrap seeds must have been imported.
 * @example await resolveBuildTargets(["hello@2.10"], { store, channelDir, system: "x86_64-linux" })
 */
export async function resolveBuildTargets(
  args: readonly string[],
  options: BuildTargetOptions,
): Promise<string[]> {
  const { store, system } = options;
  const bootstrap = await requireBootstrap(store);
  const packages = await targetPackages(args, options);
  const context = createLoweringContext({
    system,
    storeDir: store.config.storeDir,
    bootstrap,
    store,
  });
  const drvPaths: string[] = [];
  for (const pkg of packages) drvPaths.push((await lowerPackage(pkg, context)).drvPath);
  await context.flush();
  return drvPaths;
}
