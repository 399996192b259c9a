/**
 * What `kiln build` builds, whether the store is local or behind a daemon: `.drv` files
 * and store paths as given, then packages lowered into the store (`NAME`, `-f FILE.ts`),
 * or with `-S` the packages' sources.
 */
import type { LoweringStore } from "@kiln/packages/lowering-context";
import { UsageError } from "./usage-error.ts";

export interface BuildTargetsOptions {
  /** `-S`: the packages' sources rather than the packages. */
  readonly source?: boolean;
  readonly system: string;
  readonly file?: string;
  readonly attribute?: string;
  /** The channel directories names are looked up in (only asked when there are names). */
  readonly channelDirs: () => Promise<readonly string[]>;
  /** Adds a `.drv` file given on the command line to the store; returns its store path. */
  readonly addDerivation: (file: string) => Promise<string>;
}

export interface BuildTargets {
  /** The derivations to build, in argument order. */
  readonly drvPaths: readonly string[];
  /** What `-d` prints: the `.drv` paths (with `-S`, an unfetched source's own path). */
  readonly derivations: readonly string[];
  /** With `-S`: the sources' store paths, printed once built. */
  readonly sources?: readonly string[];
}

/**
 * Writes the targets' `.drv` files (and sources) into `store`.
 * @example await buildTargets(store, ["hello", "./x.drv"], { system, channelDirs, addDerivation })
 */
export async function buildTargets(
  store: LoweringStore,
  args: readonly string[],
  options: BuildTargetsOptions,
): Promise<BuildTargets> {
  const { isPackageSpec } = await import("@kiln/packages/is-package-spec");
  const names = args.filter(isPackageSpec);
  const files = args.filter((arg) => !isPackageSpec(arg));
  const lowering = async () => ({
    store,
    channelDir: names.length > 0 ? await options.channelDirs() : [],
    system: options.system,
    file: options.file,
    attribute: options.attribute,
  });
  if (options.source) {
    if (files.length > 0)
      throw new UsageError(`-S builds the sources of packages; ${files[0]} is not a package name`);
    const { resolveSourceTargets } = await import("@kiln/packages/resolve-source-targets");
    const sources = await resolveSourceTargets(names, await lowering());
    return {
      drvPaths: sources.flatMap((source) => (source.drvPath ? [source.drvPath] : [])),
      derivations: sources.map((source) => source.drvPath ?? source.path),
      sources: sources.map((source) => source.path),
    };
  }
  const drvPaths: string[] = [];
  for (const file of files) drvPaths.push(await options.addDerivation(file));
  if (names.length > 0 || options.file) {
    const { resolveBuildTargets } = await import("@kiln/packages/resolve-build-targets");
    drvPaths.push(...(await resolveBuildTargets(names, await lowering())));
  }
  return { drvPaths, derivations: drvPaths };
}
