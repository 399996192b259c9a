/**
 * One build, start to finish: lock the outputs, make sure they are still missing, take
 * a build user, run the builder in its sandbox with its log stored and shown, then bring
 * the outputs into the store and register them (or, for `--check`, compare them). A
 * failed or killed build leaves no output behind and registers nothing; its build tree
 * is kept only with `keepFailed`.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { type Derivation, derivationName, isFixedOutputDerivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { acquirePathLocks } from "@kiln/store/path-lock";
import { realPathOf } from "@kiln/store/store-config";
import { buildEnvironment } from "./build-environment.ts";
import { buildInputs } from "./build-inputs.ts";
import { openBuildLog } from "./build-log.ts";
import type { BuildOptions, BuildResult, BuildStore } from "./build-options.ts";
import type { PlannedBuild } from "./build-plan.ts";
import type { BuildUser } from "./build-users.ts";
import { BuilderError } from "./builder-error.ts";
import { checkOutputs } from "./check-outputs.ts";
import { registerOutputs } from "./register-outputs.ts";
import { removeTree } from "./remove-tree.ts";
import { runInSandbox } from "./sandbox.ts";
import { sandboxLayout } from "./sandbox-layout.ts";
import type { SandboxResult } from "./sandbox-spec.ts";

/** BuildOptions with the defaults filled in (see buildDerivations). */
export type ResolvedBuildOptions = Required<
  Pick<
    BuildOptions,
    | "cores"
    | "keepFailed"
    | "maxSilentTime"
    | "timeout"
    | "disableChroot"
    | "chrootDirs"
    | "system"
    | "hostEnv"
    | "buildDir"
  >
> &
  Pick<BuildOptions, "buildUserPool" | "reporter" | "logger" | "signal" | "bwrap">;

export interface BuildDerivationContext {
  readonly store: BuildStore;
  readDerivation(drvPath: string): Derivation;
  readonly options: ResolvedBuildOptions;
}

/**
 * Builds (or checks) one planned derivation whose dependencies are built. Never
 * rejects: whatever goes wrong is the result's `error`.
 *
 * @example
 * const result = await buildDerivation(plan.builds[0], { store, readDerivation, options });
 * if (result.status === "failed") console.error(result.error.message);
 */
export async function buildDerivation(
  build: PlannedBuild,
  context: BuildDerivationContext,
): Promise<BuildResult> {
  const { drvPath, derivation } = build;
  const { store, options } = context;
  const startTime = Date.now();
  const outputs: Record<string, string> = {};
  for (const [name, output] of derivation.outputs) outputs[name] = output.path;
  let name = drvPath;
  const warnings: string[] = [];
  const result = (status: BuildResult["status"], extra: Partial<BuildResult> = {}) => {
    const finished: BuildResult = {
      drvPath,
      name,
      requested: build.requested,
      status,
      outputs,
      warnings,
      ...extra,
    };
    options.reporter?.finished(finished);
    return finished;
  };
  let logPath: string | undefined;
  try {
    name = derivationName(derivation);
    const inputs = buildInputs(drvPath, derivation, {
      storeDir: store.config.storeDir,
      db: store.db,
      readDerivation: (path) => context.readDerivation(path),
      system: options.system,
      chrootDirs: options.chrootDirs,
      disableChroot: options.disableChroot,
    });
    const outputPaths = Object.values(outputs);
    const unlock = await lockPaths(store, outputPaths);
    try {
      if (build.check) {
        if (options.disableChroot) {
          throw new BuilderError("ERR_UNSUPPORTED", "--check needs the sandbox", {
            hint: "run without --disable-chroot",
          });
        }
        if (!outputPaths.every((path) => store.db.isValidPath(path))) {
          throw new BuilderError(
            "ERR_MISSING_INPUT",
            `some outputs of ${drvPath} are not valid, so checking is not possible`,
            { hint: "build it first, without --check" },
          );
        }
      } else {
        // Another process may have built them while we waited for the locks.
        if (outputPaths.every((path) => store.db.isValidPath(path))) return result("already-valid");
        // Left over from a build or registration that was killed: never valid, so delete.
        for (const path of outputPaths) {
          if (!store.db.isValidPath(path)) removeTree(realPathOf(store.config, path));
        }
      }
      const user = await options.buildUserPool?.acquire({ signal: options.signal });
      try {
        const run = await runBuilder(build, name, inputs, user, context);
        logPath = run.logPath;
        warnings.push(...run.sandbox.warnings);
        for (const warning of run.sandbox.warnings) options.reporter?.warning(warning);
        const kept = run.sandbox.buildTreeKept;
        try {
          const failure = builderFailure(drvPath, run.sandbox, options);
          if (failure !== undefined) {
            return result("failed", {
              error: failure,
              ...timing(startTime),
              logPath,
              ...(kept ? { buildTreeKept: kept } : {}),
            });
          }
          const daemonUid = process.getuid?.() ?? 0;
          const post = {
            drvPath,
            derivation,
            builtOutputs: run.sandbox.outputs,
            owner: daemonUid === 0 ? { uid: 0, gid: process.getgid?.() ?? 0 } : undefined,
            buildUid: user?.uid ?? daemonUid,
          };
          if (build.check) {
            await checkOutputs(store, { ...post, keepFailed: options.keepFailed });
            return result("checked", { ...timing(startTime), logPath });
          }
          await registerOutputs(store, {
            ...post,
            inputs,
            fixedOutput: isFixedOutputDerivation(derivation),
          });
          return result("built", { ...timing(startTime), logPath });
        } finally {
          cleanScratch(run.scratchDir, kept);
          if (options.disableChroot) {
            // Built in place: whatever did not get registered must go.
            for (const path of outputPaths) {
              if (!store.db.isValidPath(path)) removeTree(realPathOf(store.config, path));
            }
          }
        }
      } finally {
        if (user !== undefined) options.buildUserPool?.release(user);
      }
    } finally {
      unlock();
    }
  } catch (error) {
    return result("failed", {
      error: asBuilderError(error, drvPath),
      ...timing(startTime),
      ...(logPath ? { logPath } : {}),
    });
  }
}

async function runBuilder(
  build: PlannedBuild,
  name: string,
  inputs: readonly string[],
  user: BuildUser | undefined,
  context: BuildDerivationContext,
): Promise<{ sandbox: SandboxResult; scratchDir: string; logPath: string }> {
  const { drvPath, derivation } = build;
  const { store, options } = context;
  const { storeDir } = store.config;
  const isolated = !options.disableChroot;
  if (!isolated && storeDir !== store.config.realStoreDir) {
    throw new BuilderError(
      "ERR_UNSUPPORTED",
      `--disable-chroot builds in place, so the store must be at ${storeDir}, not ${store.config.realStoreDir}`,
    );
  }
  mkdirSync(options.buildDir, { recursive: true, mode: 0o755 });
  const scratchDir = mkdtempSync(join(options.buildDir, `${name.slice(0, 60)}-`));
  try {
    // A build user must be able to reach the sandbox's directories inside it.
    chmodSync(scratchDir, 0o755);
    const layout = sandboxLayout(scratchDir, name);
    const fixedOutput = isFixedOutputDerivation(derivation);
    const env = buildEnvironment(Object.fromEntries(derivation.env), {
      storeDir,
      buildTop: isolated ? layout.buildTop : layout.hostBuildTop,
      cores: options.cores,
      fixedOutput,
      impureEnv: options.hostEnv,
    });
    // TODO(issue 7): passAsFile and exportReferencesGraph need files in the build tree
    // before the builder starts, which runInSandbox does not offer yet.
    const log = openBuildLog(store.config, drvPath, {
      tee: (chunk) => options.reporter?.output(drvPath, chunk),
    });
    options.reporter?.started(drvPath, name);
    options.logger?.info("build started", { drv: drvPath });
    let sandbox: SandboxResult;
    try {
      sandbox = await runInSandbox(
        {
          storeDir,
          inputs: inputs.map((path) => ({ path, realPath: realPathOf(store.config, path) })),
          outputs: [...derivation.outputs.values()].map((output) => output.path),
          builder: derivation.builder,
          args: derivation.args,
          env,
          drvName: name,
          network: fixedOutput,
          chrootDirs: options.chrootDirs,
          ...(user === undefined ? {} : { buildUser: user }),
          disableChroot: options.disableChroot,
        },
        {
          scratchDir,
          log: log.stream,
          timeoutSeconds: options.timeout,
          maxSilentSeconds: options.maxSilentTime,
          signal: options.signal,
          keepFailed: options.keepFailed,
          ...(options.bwrap === undefined ? {} : { bwrap: options.bwrap }),
        },
      );
    } finally {
      await log.close().catch((error: unknown) => {
        options.logger?.warn("cannot write build log", { drv: drvPath, error: String(error) });
      });
    }
    return { sandbox, scratchDir, logPath: log.path };
  } catch (error) {
    removeTree(scratchDir);
    throw error;
  }
}

/** Why the builder failed, in Nix's words; undefined when it succeeded. */
function builderFailure(
  drvPath: string,
  sandbox: SandboxResult,
  options: ResolvedBuildOptions,
): BuilderError | undefined {
  const hint = `see the log with: kiln build --log-file ${drvPath}`;
  if (sandbox.timedOut) {
    return new BuilderError(
      "ERR_BUILD_TIMEOUT",
      `building ${drvPath} timed out after ${options.timeout} seconds`,
      { hint },
    );
  }
  if (sandbox.silentTimedOut) {
    return new BuilderError(
      "ERR_BUILD_SILENT",
      `${drvPath} timed out after ${options.maxSilentTime} seconds of silence`,
      { hint },
    );
  }
  if (sandbox.aborted) {
    return new BuilderError("ERR_BUILD_ABORTED", `the build of ${drvPath} was interrupted`);
  }
  if (sandbox.exitCode !== 0) {
    const how =
      sandbox.exitCode === null
        ? `was killed by ${sandbox.signal ?? "a signal"}`
        : `failed with exit code ${sandbox.exitCode}`;
    return new BuilderError("ERR_BUILD_FAILED", `builder for ${drvPath} ${how}`, { hint });
  }
  return undefined;
}

/** Removes the scratch directory, except a kept build tree (and its private parent). */
function cleanScratch(scratchDir: string, kept: string | undefined): void {
  if (kept === undefined) {
    removeTree(scratchDir);
    return;
  }
  const layout = sandboxLayout(scratchDir, "kept");
  if (existsLink(layout.hostStoreDir)) removeTree(layout.hostStoreDir);
}

async function lockPaths(store: BuildStore, paths: readonly string[]): Promise<() => void> {
  if (store.lockPaths !== undefined) return store.lockPaths(paths);
  const locks = await acquirePathLocks(
    paths.map((path) => `${realPathOf(store.config, path)}.lock`),
  );
  return () => {
    for (const lock of locks) lock.release();
  };
}

function timing(startTime: number): { startTime: number; durationMs: number } {
  return { startTime, durationMs: Date.now() - startTime };
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

function existsLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
