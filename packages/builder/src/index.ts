export { buildDerivations } from "./build-derivations.ts";
export { type BuildEnvironmentOptions, buildEnvironment } from "./build-environment.ts";
export { buildLogPath, openBuildLog } from "./build-log.ts";
export type {
  BuildLogger,
  BuildOptions,
  BuildReporter,
  BuildResult,
  BuildStatus,
  BuildStore,
} from "./build-options.ts";
export { type BuildPlan, type PlannedBuild, planBuilds } from "./build-plan.ts";
export { BuildTerminal } from "./build-terminal.ts";
export { BuildUserPool } from "./build-user-pool.ts";
export {
  type BuildUser,
  type BuildUsersCommandOptions,
  createBuildUsersCommand,
  parseBuildUsers,
  readBuildUsers,
} from "./build-users.ts";
export { BuilderError } from "./builder-error.ts";
export { bwrapArguments, type ResolvedInput } from "./bwrap-arguments.ts";
export { type CanonicaliseOptions, canonicalisePathMetadata } from "./canonicalise.ts";
export { describeDryRun } from "./describe-dry-run.ts";
export { hostSystem } from "./host-system.ts";
export { readBuildLog } from "./read-build-log.ts";
export { runInSandbox } from "./sandbox.ts";
export { type SandboxEtcFiles, sandboxEtcFiles } from "./sandbox-etc-files.ts";
export { type SandboxLayout, sandboxLayout } from "./sandbox-layout.ts";
export type { SandboxInput, SandboxOptions, SandboxResult, SandboxSpec } from "./sandbox-spec.ts";
