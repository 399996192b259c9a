export { BuildCoordinator, type BuildRequester, type RealiseOptions } from "./build-coordinator.ts";
export type { DaemonAddress } from "./client-connection.ts";
export type { DaemonEvent } from "./client-stderr.ts";
export type { NarUpload } from "./client-uploads.ts";
export { connectIfDaemon } from "./connect-if-daemon.ts";
export {
  type AddToStoreOptions,
  type ClientOptions,
  DaemonClient,
  type MissingPaths,
} from "./daemon-client.ts";
export { DaemonError, RemoteDaemonError } from "./daemon-error.ts";
export { createDaemonLogger } from "./daemon-logger.ts";
export {
  type DaemonOptions,
  defaultSocketPath,
  defaultTrustedSocketPath,
  type ListenEndpoint,
  type ResolvedDaemonOptions,
} from "./daemon-options.ts";
export type { DaemonSubstituter, SubstitutableInfo } from "./daemon-substituter.ts";
export { type DerivedPath, formatDerivedPath, parseDerivedPath } from "./derived-path.ts";
export { parseListenEndpoint } from "./parse-listen-endpoint.ts";
export { type RunningDaemon, startDaemon } from "./start-daemon.ts";
export { systemdListenEndpoints } from "./systemd-listen-endpoints.ts";
export { tempRootsDir } from "./temp-roots.ts";
export type { KeyedWireBuildResult, WireBuildResult } from "./wire-build-result.ts";
export * from "./worker-protocol.ts";
