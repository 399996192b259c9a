/**
 * The packages `kiln build` names: `-f FILE.ts [-A NAME]` first, then package names
 * (`hello`, `hello@2.10`) looked up in the channels, in argument order.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { findPackage } from "./find-package.ts";
import { loadChannels } from "./load-channels.ts";
import { isPackage, type Package } from "./package.ts";
import { PackageError } from "./package-error.ts";

export interface TargetPackageOptions {
  /** The channel (or channels, in order) package names are looked up in. */
  readonly channelDir: string | readonly string[];
  /** `-f FILE.ts`: a module whose exports are packages. */
  readonly file?: string;
  /** `-A NAME`: the export (or package name) to take from `file`. */
  readonly attribute?: string;
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
 * The `-f` package (if any), then each named package of the channels.
 * @example await targetPackages(["hello@2.10"], { channelDir: "channels/sample" })
 */
export async function targetPackages(
  args: readonly string[],
  options: TargetPackageOptions,
): Promise<Package[]> {
  const packages: Package[] = options.file
    ? await packagesOfFile(options.file, options.attribute)
    : [];
  if (args.length > 0) {
    const channel = await loadChannels(
      typeof options.channelDir === "string" ? [options.channelDir] : options.channelDir,
    );
    for (const spec of args) packages.push(findPackage(channel.packages, spec));
  }
  return packages;
}
