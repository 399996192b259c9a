/**
 * Building: BuildPaths, BuildPathsWithResults, BuildDerivation, EnsurePath and
 * QueryMissing. Builds go through the daemon's BuildCoordinator (shared between
 * clients, limited by --max-jobs) and are shown to the client on its stderr channel.
 * Building derivations from the store is open to every client: their outputs follow
 * from the derivation. BuildDerivation, whose derivation comes from the client, is for
 * trusted clients, except fixed-output derivations, whose output path is checked here.
 */
import type { BuildResult } from "@kiln/builder/build-options";
import { BuilderError } from "@kiln/builder/builder-error";
import { hostSystem } from "@kiln/builder/host-system";
import { derivationName, isFixedOutputDerivation } from "@kiln/formats/derivation";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { printDerivation } from "@kiln/formats/print-derivation";
import type { RealiseOptions } from "./build-coordinator.ts";
import { planDaemonBuilds } from "./builder-adapter.ts";
import { DaemonError } from "./daemon-error.ts";
import { type DerivedPath, formatDerivedPath, parseDerivedPath } from "./derived-path.ts";
import {
  checkStorePath,
  readPath,
  readPaths,
  requireTrusted,
  sortedPaths,
  whileRooting,
} from "./operation-args.ts";
import type { OperationContext, OperationHandler } from "./operation-context.ts";
import { StderrBuildReporter } from "./stderr-build-reporter.ts";
import { succeeded, toWireBuildResult } from "./to-wire-build-result.ts";
import {
  type KeyedWireBuildResult,
  writeBuildResult,
  writeKeyedBuildResults,
} from "./wire-build-result.ts";
import { readBasicDerivation } from "./wire-derivation.ts";
import {
  ActivityType,
  BuildMode,
  BuildStatusCode,
  Verbosity,
  WorkerOp,
} from "./worker-protocol.ts";

async function readDerivedPaths(ctx: OperationContext): Promise<DerivedPath[]> {
  return (await readPaths(ctx.reader)).map((text) => parseDerivedPath(text, ctx.session.format));
}

async function readBuildMode(ctx: OperationContext): Promise<number> {
  return ctx.session.format.minor >= 15 ? ctx.reader.u64() : BuildMode.Normal;
}

/** The client's build settings over the daemon's defaults. */
function realiseOptions(ctx: OperationContext, mode: number): RealiseOptions {
  const { settings } = ctx.session;
  const { options } = ctx.daemon;
  if (mode === BuildMode.Repair) requireTrusted(ctx, "repair paths");
  if (mode !== BuildMode.Normal && mode !== BuildMode.Check && mode !== BuildMode.Repair) {
    throw new DaemonError("UNSUPPORTED", `unknown build mode ${mode}`);
  }
  return {
    check: mode === BuildMode.Check,
    keepGoing: settings.keepGoing,
    keepFailed: settings.keepFailed,
    timeout: settings.timeout || options.timeout,
    maxSilentTime: settings.maxSilentTime || options.maxSilentTime,
    cores: settings.buildCores || options.cores,
    disableChroot: options.disableChroot || settings.disableChroot,
  };
}

/** Tries to substitute `paths`; returns those that are valid afterwards. */
function canSubstitute(ctx: OperationContext): boolean {
  const { options } = ctx.daemon;
  return (
    options.substituter !== undefined &&
    options.useSubstitutes &&
    ctx.session.settings.useSubstitutes
  );
}

async function substitute(ctx: OperationContext, paths: readonly string[]): Promise<Set<string>> {
  const { store, options } = ctx.daemon;
  const missing = paths.filter((path) => !store.db.isValidPath(path));
  if (missing.length > 0 && canSubstitute(ctx)) {
    await options.substituter!.substitute(missing, {
      urls: ctx.session.settings.substituteUrls,
      signal: ctx.session.signal,
      log: (line) => ctx.stderr.log(line),
    });
  }
  return new Set(paths.filter((path) => store.db.isValidPath(path)));
}

/** Runs `body` as a build requester of this client, shown on its channel, left when it disconnects. */
async function asRequester<T>(
  ctx: OperationContext,
  body: (requester: { reporter: StderrBuildReporter }) => Promise<T>,
  roots: (result: T) => Iterable<string>,
): Promise<T> {
  const reporter = new StderrBuildReporter(ctx.stderr, {
    system: ctx.daemon.options.system ?? hostSystem(),
  });
  const requester = { reporter };
  const leave = () => ctx.daemon.builds.leave(requester);
  ctx.session.signal.addEventListener("abort", leave, { once: true });
  reporter.begin();
  // Nix announces this while it plans; clients show it at debug verbosity.
  const planning = ctx.stderr.startActivity(
    ActivityType.Unknown,
    "querying info about missing paths",
    {
      level: Verbosity.Debug,
    },
  );
  ctx.stderr.stopActivity(planning);
  try {
    return await whileRooting(ctx, () => body(requester), roots);
  } finally {
    ctx.session.signal.removeEventListener("abort", leave);
    reporter.end();
  }
}

/** Builds what `targets` need; one keyed wire result per target, in order. */
async function realise(
  ctx: OperationContext,
  targets: readonly DerivedPath[],
  mode: number,
): Promise<{ results: KeyedWireBuildResult[]; failures: BuildResult[] }> {
  const options = realiseOptions(ctx, mode);
  const { store } = ctx.daemon;
  for (const target of targets)
    checkStorePath(ctx, target.kind === "opaque" ? target.path : target.drvPath);
  const opaque = targets.flatMap((t) => (t.kind === "opaque" ? [t.path] : []));
  const drvPaths = sortedPaths(targets.flatMap((t) => (t.kind === "built" ? [t.drvPath] : [])));
  // What this client builds is its temporary root from the start, so a collection
  // running meanwhile keeps it.
  for (const drvPath of drvPaths) ctx.session.tempRoots.add(drvPath);
  const alreadyValid = new Set(opaque.filter((path) => store.db.isValidPath(path)));
  const nowValid = await substitute(ctx, [...opaque, ...drvPaths]);
  for (const drvPath of drvPaths) {
    if (!nowValid.has(drvPath)) {
      throw new DaemonError("INVALID_PATH", `cannot build missing derivation '${drvPath}'`, {
        status: 1,
      });
    }
  }
  if (drvPaths.length > 0 && !options.check && canSubstitute(ctx)) {
    // Substitute what can be fetched rather than built; the rest is planned again after.
    const plan = planDaemonBuilds(store, drvPaths);
    const outputs = plan.builds.flatMap((build) =>
      [...build.derivation.outputs.values()].map((output) => output.path),
    );
    await ctx.daemon.gcLock.withShared(() => substitute(ctx, outputs));
  }
  const buildResults =
    drvPaths.length === 0
      ? []
      : await asRequester(
          ctx,
          (requester) => ctx.daemon.builds.realise(drvPaths, requester, options),
          (results) => results.filter(succeeded).flatMap((result) => Object.values(result.outputs)),
        );
  const byDrv = new Map(buildResults.map((result) => [result.drvPath, result]));
  const resolve = (drvPath: string) => store.readDerivation(drvPath);
  const results = targets.map((target): KeyedWireBuildResult => {
    const path = formatDerivedPath(target);
    if (target.kind === "opaque") {
      const valid = nowValid.has(target.path);
      ctx.session.tempRoots.add(target.path);
      return {
        path,
        status: alreadyValid.has(target.path)
          ? BuildStatusCode.AlreadyValid
          : valid
            ? BuildStatusCode.Substituted
            : BuildStatusCode.NoSubstituters,
        errorMsg: valid
          ? ""
          : `path '${target.path}' is required, but there is no substituter that can build it`,
        timesBuilt: 0,
        isNonDeterministic: false,
        startTime: 0,
        stopTime: 0,
        builtOutputs: new Map(),
      };
    }
    const result = byDrv.get(target.drvPath)!;
    ctx.session.tempRoots.add(target.drvPath);
    return {
      path,
      ...toWireBuildResult(result, {
        derivation: resolve(target.drvPath),
        resolve,
        wanted: target.outputs,
      }),
    };
  });
  const failures = buildResults.filter(
    (result) => !succeeded(result) && result.status !== "skipped",
  );
  const missingOpaque = opaque.filter((p) => !nowValid.has(p));
  if (missingOpaque.length > 0 && failures.length === 0) {
    failures.push({
      drvPath: missingOpaque[0],
      name: missingOpaque[0],
      requested: true,
      status: "failed",
      outputs: {},
      warnings: [],
      error: new BuilderError(
        "ERR_MISSING_INPUT",
        `path '${missingOpaque[0]}' does not exist and cannot be created`,
      ),
    });
  }
  return { results, failures };
}

/** The error BuildPaths reports: the failure itself when there is one, else a summary. */
function buildError(ctx: OperationContext, failures: readonly BuildResult[]): DaemonError {
  const timedOut = failures.some(
    (f) => f.error?.code === "ERR_BUILD_TIMEOUT" || f.error?.code === "ERR_BUILD_SILENT",
  );
  const status = timedOut ? 101 : 100;
  if (failures.length === 1) {
    return new DaemonError(
      "BUILD_FAILED",
      failures[0].error?.message ?? `build of '${failures[0].drvPath}' failed`,
      { status },
    );
  }
  for (const failure of failures)
    ctx.stderr.log(`error: ${failure.error?.message ?? failure.drvPath}`, 0);
  const list = failures.map((f) => `'${f.drvPath}'`).join(", ");
  return new DaemonError("BUILD_FAILED", `build of ${list} failed`, { status });
}

const buildPaths: OperationHandler = async (ctx) => {
  const targets = await readDerivedPaths(ctx);
  const mode = await readBuildMode(ctx);
  ctx.stderr.startWork();
  const { failures } = await realise(ctx, targets, mode);
  if (failures.length > 0) throw buildError(ctx, failures);
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

/**
 * Nix answers in the order of its goals: substitutions (`a$name$path`) before builds
 * (`b$name.drv$drvPath`), each by name and path; one result per distinct target.
 */
function goalKey(target: DerivedPath): string {
  const path = target.kind === "opaque" ? target.path : target.drvPath;
  const name = path.slice(path.indexOf("-") + 1);
  return `${target.kind === "opaque" ? "a" : "b"}$${name}$${path}`;
}

const buildPathsWithResults: OperationHandler = async (ctx) => {
  const requested = await readDerivedPaths(ctx);
  const mode = await readBuildMode(ctx);
  ctx.stderr.startWork();
  const byKey = new Map(requested.map((target) => [goalKey(target), target]));
  const targets = [...byKey.keys()].sort().map((key) => byKey.get(key)!);
  const { results } = await realise(ctx, targets, mode);
  ctx.stderr.stopWork();
  writeKeyedBuildResults(ctx.out.frame, results);
};

const buildDerivation: OperationHandler = async (ctx) => {
  const claimedPath = await readPath(ctx.reader);
  const derivation = await readBasicDerivation(ctx.reader);
  const mode = await ctx.reader.u64();
  ctx.stderr.startWork();
  checkStorePath(ctx, claimedPath);
  const { store } = ctx.daemon;
  const { storeDir } = store.config;
  let drvPath = claimedPath;
  if (!ctx.session.trusted) {
    if (!isFixedOutputDerivation(derivation)) {
      throw new DaemonError(
        "NOT_TRUSTED",
        "you are not privileged to build input-addressed derivations",
      );
    }
    // Its output path must follow from its hash, and its .drv is ours to write.
    const computed = computeDerivationOutputs(derivation, {
      resolve: (p) => store.readDerivation(p),
      storeDir,
    });
    if (computed.outputs.get("out")?.path !== derivation.outputs.get("out")?.path) {
      throw new DaemonError(
        "NOT_TRUSTED",
        "the output path of the fixed-output derivation does not match its hash",
      );
    }
    drvPath = await ctx.daemon.gcLock.withShared(() =>
      store.addTextToStore(`${derivationName(computed)}.drv`, printDerivation(computed), [
        ...computed.inputSrcs,
      ]),
    );
  }
  const options = realiseOptions(ctx, mode);
  const result = await asRequester(
    ctx,
    (requester) => ctx.daemon.builds.buildBasic(drvPath, derivation, requester, options),
    (built) => (succeeded(built) ? Object.values(built.outputs) : []),
  );
  ctx.stderr.stopWork();
  writeBuildResult(
    ctx.out.frame,
    toWireBuildResult(result, { derivation, resolve: (p) => store.readDerivation(p) }),
    ctx.session.format,
  );
};

const ensurePath: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  checkStorePath(ctx, path);
  const valid = await whileRooting(
    ctx,
    () => substitute(ctx, [path]),
    (now) => now,
  );
  if (!valid.has(path)) {
    throw new DaemonError("INVALID_PATH", `path '${path}' does not exist and cannot be created`);
  }
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

const queryMissing: OperationHandler = async (ctx) => {
  const targets = await readDerivedPaths(ctx);
  ctx.stderr.startWork();
  const { store, options } = ctx.daemon;
  const willBuild = new Set<string>();
  const unknown = new Set<string>();
  const candidates = new Set<string>();
  for (const target of targets) {
    if (target.kind === "opaque") {
      checkStorePath(ctx, target.path);
      if (!store.db.isValidPath(target.path)) candidates.add(target.path);
      continue;
    }
    checkStorePath(ctx, target.drvPath);
    if (!store.db.isValidPath(target.drvPath)) {
      unknown.add(target.drvPath);
      continue;
    }
    const plan = planDaemonBuilds(store, [target.drvPath]);
    for (const build of plan.builds) willBuild.add(build.drvPath);
    for (const { path } of plan.missingSources) candidates.add(path);
  }
  const willSubstitute = new Set<string>();
  let downloadSize = 0;
  let narSize = 0;
  if (
    candidates.size > 0 &&
    options.substituter &&
    options.useSubstitutes &&
    ctx.session.settings.useSubstitutes
  ) {
    const found = await options.substituter.querySubstitutable([...candidates], {
      urls: ctx.session.settings.substituteUrls,
      signal: ctx.session.signal,
    });
    for (const [path, info] of found) {
      willSubstitute.add(path);
      downloadSize += info.downloadSize;
      narSize += info.narSize;
    }
  }
  for (const path of candidates) if (!willSubstitute.has(path)) unknown.add(path);
  ctx.stderr.stopWork();
  ctx.out.frame
    .strings(sortedPaths(willBuild))
    .strings(sortedPaths(willSubstitute))
    .strings(sortedPaths(unknown))
    .u64(downloadSize)
    .u64(narSize);
};

export const buildOperations: ReadonlyMap<number, OperationHandler> = new Map([
  [WorkerOp.BuildPaths, buildPaths],
  [WorkerOp.BuildPathsWithResults, buildPathsWithResults],
  [WorkerOp.BuildDerivation, buildDerivation],
  [WorkerOp.EnsurePath, ensurePath],
  [WorkerOp.QueryMissing, queryMissing],
]);
