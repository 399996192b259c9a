/**
 * What `kiln build` needs from the package layer: package names (`hello`, `hello@2.10`)
 * or a package file (`-f FILE.ts [-A NAME]`) turned into `.drv` store paths, written to
 * the store with everything they depend on.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { LocalStore } from "@kiln/store/local-store";
import { bootstrapFor } from "./bootstrap-seeds.ts";
import { findPackage } from "./find-package.ts";
import { loadChannel } from "./load-channel.ts";
import { lowerPackage } from "./lower-package.ts";
import { createLoweringContext } from "./lowering-context.ts";
import { isPackage, type Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

export interface BuildTargetOptions {
  readonly store: Pick<LocalStore, "addTextToStore" | "addToStore" | "isValidPath" | "config">;
  /** The channel package names are looked up in. */
  readonly channelDir: string;
  /** The system to lower for, e.g. `x86_64-linux`. */
  readonly system: string;
  /** `-f FILE.ts`: a module whose exports are packages. */
  readonly file?: string;
  /** `-A NAME`: the export (or package name) to take from `file`. */
  readonly attribute?: string;
}

/** True for a build argument naming a package rather than a `.drv` file or store path. */
export function isPackageSpec(arg: string): boolean {
  return !arg.endsWith(".drv") && !arg.includes("/");
}

async function packagesOfFile(file: string, attribute: string | undefined): Promise<Package[]> {
  let exports: Record<string, unknown>;
  try {
    exports = await import(pathToFileURL(resolve(file)).href);
  } catch (cause) {
    throw new PackageError(`${file} failed to load`, { cause });
  }
  const packages = Object.entries(exports).filter((entry): entry is [string, Package] =>
    isPackage(entry[1]),
  );
  if (attribute !== undefined) {
    const chosen = packages.find(([key, pkg]) => key === attribute || pkg.name === attribute);
    if (!chosen)
      throw new PackageError(`${file} has no package ${JSON.stringify(attribute)}`, {
        hint: `it exports: ${packages.map(([key]) => key).join(", ")}`,
      });
    return [chosen[1]];
  }
  const fallback = packages.find(([key]) => key === "default");
  if (fallback) return [fallback[1]];
  if (packages.length === 1) return [packages[0]![1]];
  throw new PackageError(`${file} exports ${packages.length} packages; choose one with -A NAME`, {
    hint: `it exports: ${packages.map(([key]) => key).join(", ")}`,
  });
}

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
  const bootstrap = bootstrapFor(store.config.storeDir);
  if (!store.isValidPath(bootstrap.busybox))
    throw new PackageError(`the bootstrap seeds are not in the store (${bootstrap.busybox})`, {
      hint: "run: kiln bootstrap import",
    });
  const packages: Package[] = options.file
    ? await packagesOfFile(options.file, options.attribute)
    : [];
  if (args.length > 0) {
    const channel = await loadChannel(options.channelDir);
    for (const spec of args) packages.push(findPackage(channel.packages, spec));
  }
  const context = createLoweringContext({
    system,
    storeDir: store.config.storeDir,
    bootstrap,
    store,
  });
  const drvPaths: string[] = [];
  for (const pkg of packages) drvPaths.push((await lowerPackage(pkg, context)).drvPath);
  return drvPaths;
}
