/**
 * One build, start to finish: lock the outputs, make sure they are still missing, take
 * a build user, run the builder in its sandbox (runBuilder), then bring the outputs into
 * the store and register them, or for `--check` compare them. A failed or killed build
 * leaves no output behind and registers nothing; its build tree is kept only with
 * `keepFailed`.
 */
import { derivationName, isFixedOutputDerivation } from "@kiln/formats/derivation";
import { KilnError } from "@kiln/formats/kiln-error";
import { buildInputs } from "./build-inputs.ts";
import type { BuildDerivationContext, BuildResult } from "./build-options.ts";
import type { PlannedBuild } from "./build-plan.ts";
import { BuilderError } from "./builder-error.ts";
import { checkOutputs } from "./check-outputs.ts";
import { registerOutputs } from "./register-outputs.ts";
import { cleanScratch, removeIfPresent, runBuilder } from "./run-builder.ts";

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
  const outputPaths = Object.values(outputs);
  let name = drvPath;
  const warnings: string[] = [];
  const extra: { logPath?: string; buildTreeKept?: string } = {};
  const finish = (status: BuildResult["status"], error?: BuilderError): BuildResult => {
    const ran =
      extra.logPath === undefined ? {} : { startTime, durationMs: Date.now() - startTime };
    const result: BuildResult = {
      drvPath,
      name,
      requested: build.requested,
      status,
      outputs,
      warnings,
      ...ran,
      ...extra,
      ...(error === undefined ? {} : { error }),
    };
    options.logger?.info("build finished", { drv: drvPath, status, ...ran });
    options.reporter?.finished(result);
    return result;
  };

  try {
    name = derivationName(derivation);
    const inputs = buildInputs(drvPath, derivation, {
      storeDir: store.config.storeDir,
      db: store.db,
      readDerivation: context.readDerivation,
      system: options.system,
      chrootDirs: options.chrootDirs,
      disableChroot: options.disableChroot,
    });
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
      if (!build.check && valid.length === outputPaths.length) return finish("already-valid");
      // Left over from a build or registration that was killed: never valid, so deleted.
      if (!build.check) {
        for (const path of outputPaths)
          if (!valid.includes(path)) removeIfPresent(store.realPath(path));
      }
      const user = await options.buildUserPool?.acquire({ signal: options.signal });
      try {
        const run = await runBuilder(build, { name, inputs, user }, context);
        extra.logPath = run.logPath;
        if (run.sandbox.buildTreeKept !== undefined)
          extra.buildTreeKept = run.sandbox.buildTreeKept;
        for (const warning of run.sandbox.warnings) {
          warnings.push(warning);
          options.reporter?.warning(warning);
        }
        try {
          if (run.failure !== undefined) return finish("failed", run.failure);
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
            return finish("checked");
          }
          const fixedOutput = isFixedOutputDerivation(derivation);
          await registerOutputs(store, { ...post, inputs, fixedOutput });
          return finish("built");
        } finally {
          cleanScratch(run);
          if (options.disableChroot) {
            // Built in place: whatever did not get registered must go.
            for (const path of outputPaths) {
              if (!store.db.isValidPath(path)) removeIfPresent(store.realPath(path));
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
    return finish("failed", asBuilderError(error, drvPath));
  }
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
