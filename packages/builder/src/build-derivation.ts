/**
 * One build, start to finish: root and lock the outputs, make sure they are still
 * missing, take a build user, run the builder in its sandbox (runBuilder), then bring the
 * outputs into the store and register them, or for `--check` compare them. A failed or
 * killed build leaves no output behind and registers nothing; its build tree is kept only
 * with `keepFailed`.
 *
 * With a CommitQueue in the context, registration is grouped with other builds': once
 * the outputs are in place, `outputsReady` lets the builds that need them start, and the
 * result comes when they are registered.
 *
 * A build started early by the scheduler (`go`, while its input derivations still run)
 * sets up its sandbox with the inputs that exist, and its builder starts when `go` says
 * so, with the rest of its closure added then (see runInSandbox's `startWhen`).
 */
import { derivationName, isFixedOutputDerivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { buildInputs } from "./build-inputs.ts";
import type { BuildDerivationContext, BuildResult } from "./build-options.ts";
import type { PlannedBuild } from "./build-plan.ts";
import type { GoSignal } from "./build-scheduler.ts";
import { BuilderError } from "./builder-error.ts";
import { isBuiltinBuilder } from "./builtin-builders.ts";
import { checkOutputs } from "./check-outputs.ts";
import { exportReferencesGraph } from "./export-references-graph.ts";
import { registerOutputs, type StagedOutputs, stageOutputs } from "./register-outputs.ts";
import { removeTree } from "./remove-tree.ts";
import { type BuilderRun, cleanScratch, removeIfPresent, runBuilder } from "./run-builder.ts";

/**
 * Builds (or checks) one planned derivation whose dependencies are built (or staged in
 * `context.commits`). Never rejects: whatever goes wrong is the result's `error`.
 * `outputsReady` is called when dependents may start before the result is known; `go`
 * is given to a build started before its input derivations are built.
 *
 * @example
 * const result = await buildDerivation(plan.builds[0], { store, readDerivation, options });
 * if (result.status === "failed") console.error(result.error.message);
 */
export async function buildDerivation(
  build: PlannedBuild,
  context: BuildDerivationContext,
  outputsReady?: () => void,
  go?: Promise<GoSignal>,
): Promise<BuildResult> {
  const { drvPath, derivation } = build;
  const { options } = context;
  const startTime = Date.now();
  const outputs: Record<string, string> = {};
  for (const [name, output] of derivation.outputs) outputs[name] = output.path;
  const state: BuildState = { name: drvPath, warnings: [] };
  let status: BuildResult["status"];
  let error: BuilderError | undefined;
  try {
    status = await attempt(build, context, state, { outputsReady, go });
  } catch (caught) {
    status = "failed";
    error = asBuilderError(caught, drvPath);
  }
  const { notRun } = state;
  if (notRun?.status === "dependency-failed") {
    error = new BuilderError(
      "ERR_DEPENDENCY_FAILED",
      `cannot build ${drvPath}: its dependency ${notRun.failedDependency} failed`,
    );
  }
  // The log is written in the background; it must be there before the result is.
  await state.run?.logWritten;
  const run = state.run?.sandbox.notStarted ? undefined : state.run;
  const ran = run === undefined ? {} : { startTime, durationMs: Date.now() - startTime };
  const result: BuildResult = {
    drvPath,
    name: state.name,
    requested: build.requested,
    status,
    outputs,
    warnings: state.warnings,
    ...ran,
    ...(run === undefined ? {} : { logPath: run.logPath }),
    ...(run?.sandbox.buildTreeKept === undefined
      ? {}
      : { buildTreeKept: run.sandbox.buildTreeKept }),
    ...(notRun?.status === "dependency-failed"
      ? { failedDependency: notRun.failedDependency }
      : {}),
    ...(error === undefined ? {} : { error }),
  };
  options.logger?.info("build finished", { drv: drvPath, status, ...ran });
  options.reporter?.finished(result);
  return result;
}

/** What one build learns on its way, for its result. */
interface BuildState {
  name: string;
  readonly warnings: string[];
  run?: BuilderRun;
  /** The whole input closure, for a build started early (known once it may run). */
  inputs?: string[];
  /** Why a build started early did not run after all. */
  notRun?: Exclude<GoSignal, { status: "go" }>;
}

/** The build proper: a status, or a throw for a failure. */
async function attempt(
  build: PlannedBuild,
  context: BuildDerivationContext,
  state: BuildState,
  hooks: { outputsReady?: () => void; go?: Promise<GoSignal> },
): Promise<BuildResult["status"]> {
  // Until this build has staged its outputs (or given up), the queue lets groups grow.
  const staging = context.commits?.building();
  try {
    return await attemptStaging(build, context, state, hooks, staging);
  } finally {
    staging?.();
  }
}

/** attempt, once the commit queue knows about it; calls `staging` once staged. */
async function attemptStaging(
  build: PlannedBuild,
  context: BuildDerivationContext,
  state: BuildState,
  hooks: { outputsReady?: () => void; go?: Promise<GoSignal> },
  staging: (() => void) | undefined,
): Promise<BuildResult["status"]> {
  const { drvPath, derivation } = build;
  const { store, options, commits } = context;
  const { outputsReady } = hooks;
  const outputPaths = [...derivation.outputs.values()].map((output) => output.path);
  state.name = derivationName(derivation);
  // Roots first, then the validity checks (the temporary roots protocol).
  await context.addTempRoots?.([
    drvPath,
    ...outputPaths,
    ...derivation.inputSrcs,
    ...[...derivation.inputDrvs].flatMap(([inputDrv, names]) => {
      const input = context.readDerivation(inputDrv);
      return [inputDrv, ...names.flatMap((name) => input.outputs.get(name)?.path ?? [])];
    }),
  ]);
  const db = commits ?? store.db;
  // The outputs of input derivations that are not there yet, when started early.
  const pending = new Set<string>();
  let { go } = hooks;
  if (go !== undefined && earlyStartPossible(derivation, options)) {
    for (const [inputDrv, names] of derivation.inputDrvs) {
      const input = context.readDerivation(inputDrv);
      for (const name of names) {
        const path = input.outputs.get(name)?.path;
        if (path !== undefined && !db.isValidPath(path)) pending.add(path);
      }
    }
  }
  if (go !== undefined && pending.size === 0) {
    // Nothing to set up ahead (or no way to): wait for the dependencies.
    const signal = await go;
    if (signal.status !== "go") {
      state.notRun = signal;
      return signal.status;
    }
    go = undefined;
  }
  const inputOptions = {
    storeDir: store.config.storeDir,
    db,
    readDerivation: context.readDerivation,
    system: options.system,
    chrootDirs: options.chrootDirs,
    disableChroot: options.disableChroot,
  };
  const closure = buildInputs(drvPath, derivation, { ...inputOptions, pending });
  const exported = exportReferencesGraph(drvPath, derivation, {
    storeDir: store.config.storeDir,
    db,
    readDerivation: context.readDerivation,
    inputs: closure,
  });
  const inputs =
    exported.paths.length === 0 ? closure : [...new Set([...closure, ...exported.paths])].sort();
  checkMode(drvPath, build.check, context);
  const unlock = await store.lockPaths(outputPaths);
  try {
    const valid = outputPaths.filter((path) => store.db.isValidPath(path));
    if (build.check && valid.length < outputPaths.length) {
      throw new BuilderError(
        "ERR_MISSING_INPUT",
        `some outputs of ${drvPath} are not valid, so checking is not possible`,
        { hint: "build it first, without --check" },
      );
    }
    // Another process may have built them while we waited for the locks.
    if (!build.check && valid.length === outputPaths.length) return "already-valid";
    // Left over from a build or registration that was killed: never valid, so deleted.
    if (!build.check) {
      for (const path of outputPaths)
        if (!valid.includes(path)) removeIfPresent(store.realPath(path));
    }
    const known = new Set(inputs);
    const startWhen = go?.then((signal) => {
      if (signal.status !== "go") {
        state.notRun = signal;
        return undefined;
      }
      // The whole closure now, checked again; the sandbox gets what it lacks.
      state.inputs = buildInputs(drvPath, derivation, inputOptions);
      return state.inputs.filter((path) => !known.has(path));
    });
    const staged = await runAndTakeOutputs(build, context, state, {
      inputs,
      files: exported.files,
      ...(startWhen === undefined ? {} : { startWhen }),
    });
    if (state.notRun !== undefined) return state.notRun.status;
    if (staged === "checked") return "checked";
    if (staged === undefined || commits === undefined) return "built";
    outputsReady?.();
    const committed = commits.commit(staged.infos, staged.realPaths);
    staging?.();
    try {
      await committed;
    } catch (error) {
      for (const path of staged.realPaths) removeTree(path);
      throw error;
    }
    return "built";
  } finally {
    unlock();
  }
}

/**
 * Runs the builder under a build user and takes its outputs: registered (no commit
 * queue), staged (returned), or compared (`--check`). Throws the builder's failure.
 */
async function runAndTakeOutputs(
  build: PlannedBuild,
  context: BuildDerivationContext,
  state: BuildState,
  what: {
    inputs: readonly string[];
    files: ReadonlyMap<string, string>;
    startWhen?: Promise<readonly string[] | undefined>;
  },
): Promise<StagedOutputs | "checked" | undefined> {
  const { drvPath, derivation } = build;
  const { store, options, commits } = context;
  const user = await options.buildUserPool?.acquire({ signal: options.signal });
  let staged: StagedOutputs | undefined;
  try {
    const run = await runBuilder(
      build,
      {
        name: state.name,
        inputs: what.inputs,
        user,
        ...(what.files.size > 0 ? { files: what.files } : {}),
        ...(what.startWhen === undefined ? {} : { startWhen: what.startWhen }),
      },
      context,
    );
    state.run = run;
    for (const warning of run.sandbox.warnings) {
      state.warnings.push(warning);
      options.reporter?.warning(warning);
    }
    // Reference candidates: the whole closure, which a build started early learnt late.
    const inputs = state.inputs ?? what.inputs;
    try {
      if (run.sandbox.notStarted) return undefined;
      if (run.failure !== undefined) throw run.failure;
      const daemonUid = process.getuid?.() ?? 0;
      const post = {
        drvPath,
        derivation,
        builtOutputs: run.sandbox.outputs,
        // As root, everything entering the store is chowned to root, its owner.
        owner: daemonUid === 0 ? { uid: 0, gid: process.getgid?.() ?? 0 } : undefined,
        buildUid: user?.uid ?? daemonUid,
      };
      if (build.check) {
        await checkOutputs(store, { ...post, keepFailed: options.keepFailed });
        return "checked";
      }
      const fixedOutput = isFixedOutputDerivation(derivation);
      if (commits === undefined) {
        await registerOutputs(store, { ...post, inputs, fixedOutput });
        return undefined;
      }
      staged = await stageOutputs(store, { ...post, inputs, fixedOutput });
      return staged;
    } finally {
      cleanScratch(run, context.scratchPool);
      if (options.disableChroot) {
        // Built in place: whatever did not get registered (or staged) must go.
        const kept = new Set(staged?.infos.map((info) => info.path));
        for (const [, output] of derivation.outputs) {
          if (!kept.has(output.path) && !store.db.isValidPath(output.path))
            removeIfPresent(store.realPath(output.path));
        }
      }
    }
  } finally {
    if (user !== undefined) options.buildUserPool?.release(user);
  }
}

/**
 * Whether a build can set up its sandbox before its input derivations are built: inputs
 * that come late are copied in, which runInSandbox does for sandboxed builds as root;
 * builtin builders and exportReferencesGraph need all inputs first.
 */
function earlyStartPossible(
  derivation: PlannedBuild["derivation"],
  options: BuildDerivationContext["options"],
): boolean {
  return (
    !options.disableChroot &&
    process.getuid?.() === 0 &&
    !isBuiltinBuilder(derivation.builder) &&
    !derivation.env.has("exportReferencesGraph")
  );
}

/** Refuses what cannot work before anything is locked or deleted. */
function checkMode(drvPath: string, check: boolean, context: BuildDerivationContext): void {
  const { config } = context.store;
  if (!context.options.disableChroot) return;
  if (check) {
    throw new BuilderError(
      "ERR_UNSUPPORTED",
      `cannot check ${drvPath}: --check needs the sandbox`,
      {
        hint: "run without --disable-chroot",
      },
    );
  }
  if (config.storeDir !== config.realStoreDir) {
    throw new BuilderError(
      "ERR_UNSUPPORTED",
      `--disable-chroot builds in place, so the store must be at ${config.storeDir}, not ${config.realStoreDir}`,
    );
  }
}

function asBuilderError(error: unknown, drvPath: string): BuilderError {
  if (error instanceof BuilderError) return error;
  if (error instanceof KilnError) {
    return new BuilderError(error.code, error.message, { hint: error.hint, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BuilderError("ERR_BUILD_FAILED", `building ${drvPath} failed: ${message}`, {
    cause: error,
  });
}
