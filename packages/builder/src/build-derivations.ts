/**
 * `kiln build FILE.drv…` below the CLI, and the daemon's BuildDerivations: plan (pure),
 * then run the plan with the scheduler, one buildDerivation per step. The builds of one
 * call share scratch directories (ScratchPool), register their outputs in groups while
 * their dependents already run (CommitQueue), and hold temporary roots on everything
 * they use or make, so a concurrent `kiln gc` leaves it alone.
 */
import { accessSync, constants, mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Derivation } from "@kiln/formats/derivation";
import { derivationName } from "@kiln/formats/derivation";
import { TempRoots } from "@kiln/gc/temp-roots";
import { kilnStateDir } from "@kiln/store/store-config";
import { buildDerivation } from "./build-derivation.ts";
import type {
  BuildOptions,
  BuildResult,
  BuildStore,
  ResolvedBuildOptions,
} from "./build-options.ts";
import { type PlannedBuild, planBuilds } from "./build-plan.ts";
import { runSchedule } from "./build-scheduler.ts";
import { BuilderError } from "./builder-error.ts";
import { CommitQueue } from "./commit-queue.ts";
import { hostSystem } from "./host-system.ts";
import { readStoreDerivation } from "./read-store-derivation.ts";
import { ScratchPool } from "./scratch-pool.ts";
import { substituteMissing } from "./substitute-missing.ts";

/**
 * Builds what is missing of `drvPaths` (valid `.drv` store paths), dependencies first.
 * Resolves with one result per derivation considered: the builds of the plan in the
 * order they were planned, then the requested derivations that were already valid.
 * Failed builds are results, not rejections; bad input (unreadable or malformed
 * derivations, missing input sources, an unwritable store, bad options) rejects with a
 * BuilderError before anything is built.
 *
 * @example
 * const results = await buildDerivations(store, ["/gnu/store/…-hello-2.12.drv"], {
 *   maxJobs: 2, reporter: new BuildTerminal(process.stderr, { maxJobs: 2 }),
 * });
 * for (const result of results) if (result.requested) console.log(...Object.values(result.outputs));
 */
export async function buildDerivations(
  store: BuildStore,
  drvPaths: readonly string[],
  options: BuildOptions = {},
): Promise<BuildResult[]> {
  const maxJobs = options.maxJobs ?? 1;
  checkCount("maxJobs (--max-jobs)", maxJobs, 1);
  const resolved = resolveBuildOptions(store, options);
  const derivations = new Map<string, Derivation>();
  const readDerivation = (drvPath: string) => {
    let drv = derivations.get(drvPath);
    if (drv === undefined) {
      drv = readStoreDerivation(store, drvPath);
      derivations.set(drvPath, drv);
    }
    return drv;
  };
  const isValid = (path: string) => store.db.isValidPath(path);
  let plan = planBuilds(drvPaths, { readDerivation, isValid, check: options.check });
  if (
    options.substituter &&
    !options.dryRun &&
    (plan.builds.length > 0 || plan.missingSources.length > 0)
  ) {
    const asked = await substituteMissing(plan, options.substituter, isValid);
    if (asked.length > 0)
      plan = planBuilds(drvPaths, { readDerivation, isValid, check: options.check });
  }
  const missing = plan.missingSources[0];
  if (missing !== undefined) {
    const more =
      plan.missingSources.length > 1 ? ` (and ${plan.missingSources.length - 1} more)` : "";
    throw new BuilderError(
      "ERR_MISSING_INPUT",
      `input ${missing.path} of ${missing.drvPath} is not valid${more}`,
      { hint: "add it to the store first" },
    );
  }
  const validResults = plan.valid.map(({ drvPath, derivation }) =>
    buildResultSummary(drvPath, derivation, true, "already-valid"),
  );
  if (options.dryRun) {
    const wouldBuild = plan.builds.map((build) =>
      buildResultSummary(build.drvPath, build.derivation, build.requested, "would-build"),
    );
    return [...wouldBuild, ...validResults];
  }
  if (plan.builds.length === 0) return validResults;
  checkWritable(store);
  mkdirSync(resolved.buildDir, { recursive: true, mode: 0o755 });

  const tempRoots = openTempRoots(store);
  const scratchPool = new ScratchPool(resolved.buildDir);
  let outcomes: Awaited<ReturnType<typeof runSchedule<PlannedBuild, BuildResult>>>;
  try {
    // Everything the plan uses or makes; each build adds (and checks) its own again.
    await tempRoots.add(plannedPaths(plan, readDerivation));
    options.reporter?.planned(plan.builds.length);
    const context = {
      store,
      readDerivation,
      options: resolved,
      scratchPool,
      commits: new CommitQueue(store.db),
      addTempRoots: (paths: readonly string[]) => tempRoots.add(paths),
    };
    outcomes = await runSchedule(plan.builds, {
      maxJobs,
      keepGoing: options.keepGoing ?? false,
      signal: options.signal,
      run: (build, release, go) => buildDerivation(build, context, release, go),
      // Sandboxes are set up while the builds they wait for run (see buildDerivation).
      prestart: true,
      succeeded: (result) =>
        result.status === "built" ||
        result.status === "checked" ||
        result.status === "already-valid",
    });
  } finally {
    scratchPool.dispose();
    tempRoots.close();
  }
  const results = plan.builds.map((build) => {
    const outcome = outcomes.get(build.drvPath)!;
    if (outcome.status === "ran") return outcome.result;
    const result = notBuilt(build, outcome);
    options.reporter?.finished(result);
    return result;
  });
  return [...results, ...validResults];
}

/** The temporary roots of one call: a file of its own (the daemon runs several at once). */
let tempRootsCalls = 0;
function openTempRoots(store: BuildStore): TempRoots {
  try {
    return TempRoots.open(store.config, { tag: `build${++tempRootsCalls}` });
  } catch (error) {
    throw new BuilderError(
      "ERR_STORE_NOT_WRITABLE",
      `cannot record temporary roots under ${kilnStateDir(store.config)}: ${(error as Error).message}`,
      { cause: error, hint: "run as the store's owner, or through the daemon" },
    );
  }
}

/** The `.drv` files, outputs and inputs of the planned builds, and the valid requested outputs. */
function plannedPaths(
  plan: { builds: readonly PlannedBuild[]; valid: readonly { derivation: Derivation }[] },
  readDerivation: (drvPath: string) => Derivation,
): string[] {
  const paths = new Set<string>();
  for (const { drvPath, derivation } of plan.builds) {
    paths.add(drvPath);
    for (const output of derivation.outputs.values()) paths.add(output.path);
    for (const source of derivation.inputSrcs) paths.add(source);
    for (const [inputDrv, names] of derivation.inputDrvs) {
      paths.add(inputDrv);
      const input = readDerivation(inputDrv);
      for (const name of names) {
        const path = input.outputs.get(name)?.path;
        if (path) paths.add(path);
      }
    }
  }
  for (const { derivation } of plan.valid)
    for (const output of derivation.outputs.values()) paths.add(output.path);
  return [...paths];
}

function notBuilt(
  build: PlannedBuild,
  outcome: { status: "dependency-failed"; failedDependency: string } | { status: "skipped" },
): BuildResult {
  const base = buildResultSummary(build.drvPath, build.derivation, build.requested, outcome.status);
  if (outcome.status === "skipped") return base;
  return {
    ...base,
    failedDependency: outcome.failedDependency,
    error: new BuilderError(
      "ERR_DEPENDENCY_FAILED",
      `cannot build ${build.drvPath}: its dependency ${outcome.failedDependency} failed`,
    ),
  };
}

/** A result for a derivation that was not (or not yet) built: its outputs and name. */
export function buildResultSummary(
  drvPath: string,
  derivation: Derivation,
  requested: boolean,
  status: BuildResult["status"],
): BuildResult {
  const outputs: Record<string, string> = {};
  for (const [name, output] of derivation.outputs) outputs[name] = output.path;
  let name = drvPath;
  try {
    name = derivationName(derivation);
  } catch {
    // Only for display; a nameless derivation fails when it is built.
  }
  return { drvPath, name, requested, status, outputs, warnings: [] };
}

/** Checks the options and fills in their defaults (shared with the daemon's BuildDerivation). */
export function resolveBuildOptions(
  store: BuildStore,
  options: BuildOptions,
): ResolvedBuildOptions {
  const cores = options.cores ?? 0;
  checkCount("cores (--cores)", cores, 0);
  const timeout = options.timeout ?? 0;
  const maxSilentTime = options.maxSilentTime ?? 0;
  checkSeconds("timeout (--timeout)", timeout);
  checkSeconds("maxSilentTime (--max-silent-time)", maxSilentTime);
  for (const dir of options.chrootDirs ?? []) {
    if (!dir.startsWith("/")) {
      throw new BuilderError("ERR_USAGE", `chroot directory ${dir} is not an absolute path`);
    }
  }
  return {
    cores: cores === 0 ? availableParallelism() : cores,
    keepFailed: options.keepFailed ?? false,
    timeout,
    maxSilentTime,
    disableChroot: options.disableChroot ?? false,
    chrootDirs: options.chrootDirs ?? [],
    system: options.system ?? hostSystem(),
    hostEnv: options.hostEnv ?? {},
    buildDir: options.buildDir ?? join(kilnStateDir(store.config), "builds"),
    buildUserPool: options.buildUserPool,
    reporter: options.reporter,
    logger: options.logger,
    signal: options.signal,
    bwrap: options.bwrap,
  };
}

function checkCount(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new BuilderError(
      "ERR_USAGE",
      `${what} must be a whole number of at least ${min}, not ${value}`,
    );
  }
}

function checkSeconds(what: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new BuilderError("ERR_USAGE", `${what} must be a number of seconds, not ${value}`);
  }
}

function checkWritable(store: BuildStore): void {
  const { realStoreDir } = store.config;
  try {
    accessSync(realStoreDir, constants.W_OK);
  } catch (error) {
    throw new BuilderError(
      "ERR_STORE_NOT_WRITABLE",
      `cannot write to the store at ${realStoreDir}: ${(error as NodeJS.ErrnoException).code}`,
      { cause: error, hint: "run as the store's owner, or through the daemon" },
    );
  }
}
