import type { BuildResult } from "./build-options.ts";

/**
 * What `--dry-run` prints (to stderr), worded as Nix 2.8 words it: the derivations that
 * would be built, dependencies first; nothing when everything is valid.
 *
 * @example
 * describeDryRun(await buildDerivations(store, [drv], { dryRun: true }));
 * // "these 2 derivations will be built:\n  /gnu/store/…-b.drv\n  /gnu/store/…-a.drv\n"
 */
export function describeDryRun(
  results: readonly Pick<BuildResult, "drvPath" | "status">[],
): string {
  const wouldBuild = results.filter((r) => r.status === "would-build").map((r) => r.drvPath);
  if (wouldBuild.length === 0) return "";
  const head =
    wouldBuild.length === 1
      ? "this derivation will be built:"
      : `these ${wouldBuild.length} derivations will be built:`;
  return `${head}\n${wouldBuild.map((drvPath) => `  ${drvPath}\n`).join("")}`;
}
