/**
 * `kiln build -S`, as `guix build -S`: the sources of the named packages rather than the
 * packages. An origin fetched by a fixed-output derivation gives that derivation (to
 * build); a text or local origin is added to the store as it is (nothing to build).
 */
import { type LoweredOrigin, lowerOrigin } from "./lower-origin.ts";
import { createLoweringContext } from "./lowering-context.ts";
import { packageFullName } from "./package.ts";
import { PackageError } from "./package-error.ts";
import { requireBootstrap } from "./require-bootstrap.ts";
import type { BuildTargetOptions } from "./resolve-build-targets.ts";
import { targetPackages } from "./target-packages.ts";

/**
 * Writes the sources of the named packages (and the `-f` package) to the store; one
 * result per package, in argument order: the source's store path, and the `.drv` that
 * makes it when it is fetched. A package without a source is an error naming it.
 * @example const [{ path, drvPath }] = await resolveSourceTargets(["hello"], { store, channelDir, system })
 */
export async function resolveSourceTargets(
  args: readonly string[],
  options: BuildTargetOptions,
): Promise<LoweredOrigin[]> {
  const { store, system } = options;
  const bootstrap = await requireBootstrap(store);
  const packages = await targetPackages(args, options);
  const missing = packages.filter((pkg) => pkg.source === undefined);
  if (missing.length > 0)
    throw new PackageError(
      `${missing.map((pkg) => `${pkg.name}@${pkg.version}`).join(", ")}: package has no source`,
    );
  const context = createLoweringContext({
    system,
    storeDir: store.config.storeDir,
    bootstrap,
    store,
  });
  const sources: LoweredOrigin[] = [];
  for (const pkg of packages)
    sources.push(await lowerOrigin(pkg.source!, packageFullName(pkg), context));
  await context.flush();
  return sources;
}
