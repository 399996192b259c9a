export { type BuildEnvironmentOptions, buildEnvironment } from "./build-environment.ts";
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
export { runInSandbox } from "./sandbox.ts";
export { type SandboxEtcFiles, sandboxEtcFiles } from "./sandbox-etc-files.ts";
export { type SandboxLayout, sandboxLayout } from "./sandbox-layout.ts";
export type { SandboxInput, SandboxOptions, SandboxResult, SandboxSpec } from "./sandbox-spec.ts";
