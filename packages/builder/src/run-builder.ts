/**
 * The sandboxed part of one build: a fresh scratch directory under the build directory,
 * the builder's environment, its log stored (and shown) while it runs, and the verdict in
 * Nix's words. The scratch directory is the caller's to remove (cleanScratch) once the
 * outputs have been taken out of it; it comes from the call's ScratchPool when there is
 * one. The log is written to disk in the background: `logWritten` says when it is there.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { isFixedOutputDerivation } from "@kiln/formats/derivation";
import { buildEnvironment } from "./build-environment.ts";
import { openBuildLog } from "./build-log.ts";
import type { BuildDerivationContext, ResolvedBuildOptions } from "./build-options.ts";
import type { PlannedBuild } from "./build-plan.ts";
import type { BuildUser } from "./build-users.ts";
import { BuilderError } from "./builder-error.ts";
import { isBuiltinBuilder, runBuiltinBuilder } from "./builtin-builders.ts";
import { passAsFile } from "./pass-as-file.ts";
import { removeTree } from "./remove-tree.ts";
import { runInSandbox } from "./sandbox.ts";
import { sandboxLayout } from "./sandbox-layout.ts";
import type { SandboxResult } from "./sandbox-spec.ts";
import type { PooledScratch, ScratchPool } from "./scratch-pool.ts";

export interface BuilderRun {
  readonly sandbox: SandboxResult;
  readonly scratchDir: string;
  /** Set when the scratch directory came from a pool (cleanScratch gives it back). */
  readonly scratch?: PooledScratch;
  readonly logPath: string;
  /** Resolves once the log is complete on disk; never rejects (a failure is logged). */
  readonly logWritten: Promise<void>;
  /** Why the builder failed (exit code, timeout, silence, abort); undefined on success. */
  readonly failure: BuilderError | undefined;
}

/**
 * Runs the builder of `build` in a sandbox under `context.options.buildDir`. Rejects
 * only when the sandbox cannot be set up; a failing builder is `failure`.
 *
 * @example
 * const run = await runBuilder(build, { name, inputs, user }, context);
 * try { if (run.failure === undefined) await registerOutputs(…); } finally { cleanScratch(run) }
 */
export async function runBuilder(
  build: PlannedBuild,
  what: {
    name: string;
    inputs: readonly string[];
    user: BuildUser | undefined;
    /** passAsFile and exportReferencesGraph files (see buildTreeFiles). */
    files?: ReadonlyMap<string, string>;
    /**
     * Set up the sandbox now, start the builder once this resolves with the inputs that
     * were not there yet (see SandboxOptions.startWhen); undefined: do not start.
     */
    startWhen?: Promise<readonly string[] | undefined>;
  },
  context: BuildDerivationContext,
): Promise<BuilderRun> {
  const { drvPath, derivation } = build;
  const { name, inputs, user } = what;
  const { store, options } = context;
  const { storeDir } = store.config;
  const isolated = !options.disableChroot;
  const scratch = context.scratchPool?.acquire(user?.uid ?? process.getuid?.() ?? 0, name);
  // A fresh name, unless pooled: runInSandbox creates the directory (and refuses to
  // reuse a build tree it was not told about).
  const scratchDir =
    scratch?.dir ??
    join(options.buildDir, `${name.slice(0, 60)}-${randomBytes(6).toString("hex")}`);
  try {
    if (user !== undefined && scratch?.reuse === undefined) {
      // The build user must be able to reach the sandbox's directories inside it,
      // whatever the daemon's umask.
      mkdirSync(scratchDir, { mode: 0o755 });
      chmodSync(scratchDir, 0o755);
    }
    const layout = sandboxLayout(scratchDir, name);
    const fixedOutput = isFixedOutputDerivation(derivation);
    const buildTop = isolated ? layout.buildTop : layout.hostBuildTop;
    const passed = passAsFile(Object.fromEntries(derivation.env), buildTop);
    const env = buildEnvironment(passed.env, {
      storeDir,
      buildTop,
      cores: options.cores,
      fixedOutput,
      impureEnv: options.hostEnv,
    });
    const files = new Map([...passed.files, ...(what.files ?? [])]);
    const log = openBuildLog(store.config, drvPath, {
      tee: (chunk) => options.reporter?.output(drvPath, chunk),
    });
    const started = () => {
      options.reporter?.started(drvPath, name);
      options.logger?.info("build started", { drv: drvPath, buildDir: scratchDir });
    };
    const startWhen = what.startWhen?.then((late) => {
      if (late !== undefined) started();
      return late?.map((path) => ({ path, realPath: store.realPath(path) }));
    });
    if (startWhen === undefined) started();
    let sandbox: SandboxResult | undefined;
    let logWritten: Promise<void> | undefined;
    try {
      // A builtin builder (builtin:git-download) runs here, under the sandbox's contract.
      const run = isBuiltinBuilder(derivation.builder) ? runBuiltinBuilder : runInSandbox;
      sandbox = await run(
        {
          storeDir,
          inputs: inputs.map((path) => ({ path, realPath: store.realPath(path) })),
          outputs: [...derivation.outputs.values()].map((output) => output.path),
          builder: derivation.builder,
          args: derivation.args,
          env,
          drvName: name,
          network: fixedOutput,
          chrootDirs: options.chrootDirs,
          ...(user === undefined ? {} : { buildUser: user }),
          disableChroot: options.disableChroot,
          ...(files.size === 0 ? {} : { buildTreeFiles: files }),
        },
        {
          scratchDir,
          ...(scratch?.reuse === undefined ? {} : { reuseScratch: scratch.reuse }),
          pooled: scratch !== undefined,
          ...(startWhen === undefined ? {} : { startWhen }),
          log: log.stream,
          timeoutSeconds: options.timeout,
          maxSilentSeconds: options.maxSilentTime,
          signal: options.signal,
          keepFailed: options.keepFailed,
          ...(options.bwrap === undefined ? {} : { bwrap: options.bwrap }),
        },
      );
    } finally {
      const end = sandbox?.notStarted ? log.discard() : log.close();
      logWritten = end.catch((error: unknown) => {
        options.logger?.warn("cannot write build log", { drv: drvPath, error: String(error) });
      });
    }
    const failure = builderFailure(drvPath, sandbox, options);
    return {
      sandbox,
      scratchDir,
      ...(scratch === undefined ? {} : { scratch }),
      logPath: log.path,
      logWritten,
      failure,
    };
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

/**
 * Removes the scratch directory, except a kept build tree (and its private parent), or
 * gives it back to `pool` for the next build. After a successful build only empty
 * directories are left: three rmdir calls, no tree walk.
 */
export function cleanScratch(
  run: Pick<BuilderRun, "scratchDir" | "sandbox" | "scratch">,
  pool?: ScratchPool,
): void {
  if (pool !== undefined && run.scratch !== undefined) {
    pool.release(run.scratch, run.sandbox);
    return;
  }
  const { scratchDir } = run;
  const kept = run.sandbox.buildTreeKept;
  const layout = sandboxLayout(scratchDir, "any");
  if (kept !== undefined) {
    removeIfPresent(layout.hostStoreDir);
    return;
  }
  try {
    for (const dir of [layout.hostStoreDir, layout.hostPrivateDir, scratchDir]) {
      try {
        rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
  } catch {
    removeTree(scratchDir);
  }
}

/** Removes `path` if it exists: one lstat when there is nothing, which is almost always. */
export function removeIfPresent(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  removeTree(path);
}
