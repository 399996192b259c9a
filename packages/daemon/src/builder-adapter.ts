import { buildDerivation } from "@kiln/builder/build-derivation";
import { buildDerivations, resolveBuildOptions } from "@kiln/builder/build-derivations";
import { openBuildLog } from "@kiln/builder/build-log";
import type { BuildOptions, BuildResult, BuildStore } from "@kiln/builder/build-options";
import { type BuildPlan, planBuilds } from "@kiln/builder/build-plan";
import { readStoreDerivation } from "@kiln/builder/read-store-derivation";
import type { Derivation } from "@kiln/formats/derivation";

export type { BuildPlan, BuildResult };

/** Options of one build, as the daemon passes them (maxJobs is the daemon's business). */
export type OneBuildOptions = Omit<BuildOptions, "maxJobs" | "dryRun" | "keepGoing">;

/**
 * The builds `drvPaths` need, dependencies first, reading derivations from the store.
 * Throws (BuilderError) for unreadable or malformed derivations.
 */
export function planDaemonBuilds(
  store: BuildStore,
  drvPaths: readonly string[],
  options: { check?: boolean; readDerivation?: (drvPath: string) => Derivation } = {},
): BuildPlan {
  const readDerivation =
    options.readDerivation ?? ((drvPath: string) => readStoreDerivation(store, drvPath));
  return planBuilds(drvPaths, {
    readDerivation,
    isValid: (path) => store.db.isValidPath(path),
    check: options.check,
  });
}

/** Builds one valid `.drv` whose input derivations' outputs are valid. Never rejects. */
export async function buildOneDerivation(
  store: BuildStore,
  drvPath: string,
  options: OneBuildOptions,
): Promise<BuildResult> {
  const results = await buildDerivations(store, [drvPath], { ...options, maxJobs: 1 });
  const result = results.find((r) => r.drvPath === drvPath);
  if (result === undefined) throw new Error(`the builder returned no result for ${drvPath}`);
  return result;
}

/**
 * Builds a derivation the client sent (BuildDerivation): it need not be in the store,
 * its input derivations are not known, and its input sources must be valid.
 */
export async function buildBasicDerivation(
  store: BuildStore,
  drvPath: string,
  derivation: Derivation,
  options: OneBuildOptions,
): Promise<BuildResult> {
  return buildDerivation(
    { drvPath, derivation, dependsOn: [], requested: true, check: options.check === true },
    {
      store,
      readDerivation: (path) => readStoreDerivation(store, path),
      options: resolveBuildOptions(store, options),
    },
  );
}

/** Stores a build log a client sends (AddBuildLog), where the builder keeps its own. */
export async function storeBuildLog(
  store: Pick<BuildStore, "config">,
  drvPath: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const log = openBuildLog(store.config, drvPath);
  for await (const chunk of chunks) {
    if (!log.stream.write(chunk)) {
      await new Promise((resolve) => log.stream.once("drain", resolve));
    }
  }
  await log.close();
}
