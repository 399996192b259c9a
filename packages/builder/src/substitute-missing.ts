/**
 * Substitution before building, as Nix's queryMissing does it: walk the planned builds
 * from the requested derivations down; a derivation whose missing outputs can all be
 * substituted is fetched instead of built, and its own inputs are then not needed (they
 * are not visited); otherwise its inputs are looked at in turn. Missing input sources can
 * only come from substitutes. The caller re-plans afterwards.
 */
import type { BuildPlan } from "./build-plan.ts";

/** What the builder needs of a substituter (see @kiln/substituter). */
export interface BuildSubstituter {
  /** Which of `paths` some trusted cache offers. */
  querySubstitutable(paths: readonly string[]): Promise<Set<string>>;
  /** Fetches `paths` (and their references); those it cannot fetch stay invalid. */
  substitute(paths: readonly string[]): Promise<void>;
}

/** Substitutes what it can of `plan`; returns the paths it asked for (none: nothing to re-plan). */
export async function substituteMissing(
  plan: BuildPlan,
  substituter: BuildSubstituter,
  isValid: (path: string) => boolean,
): Promise<string[]> {
  const builds = new Map(
    plan.builds.filter((build) => !build.check).map((build) => [build.drvPath, build]),
  );
  const wanted: string[] = plan.missingSources.map((source) => source.path);
  let frontier = [...builds.values()]
    .filter((build) => build.requested)
    .map((build) => build.drvPath);
  const visited = new Set<string>();
  while (frontier.length > 0) {
    const level = frontier.filter((drvPath) => !visited.has(drvPath));
    for (const drvPath of level) visited.add(drvPath);
    const missingOutputs = new Map<string, string[]>();
    for (const drvPath of level) {
      const outputs = [...(builds.get(drvPath)?.derivation.outputs.values() ?? [])].map(
        (o) => o.path,
      );
      missingOutputs.set(
        drvPath,
        outputs.filter((path) => !isValid(path)),
      );
    }
    const offered = await substituter.querySubstitutable([...missingOutputs.values()].flat());
    const next: string[] = [];
    for (const [drvPath, outputs] of missingOutputs) {
      if (outputs.length > 0 && outputs.every((path) => offered.has(path))) wanted.push(...outputs);
      else next.push(...(builds.get(drvPath)?.dependsOn ?? []));
    }
    frontier = next;
  }
  if (wanted.length > 0) await substituter.substitute(wanted);
  return wanted;
}
