/**
 * The contract of `buildDerivations`: the store it builds into, the options the CLI and
 * the daemon pass (parsed at the edge; nothing below reads `process.env`), and what
 * comes back for each derivation.
 */
import type { Derivation } from "@kiln/formats/derivation";
import type { LocalStore } from "@kiln/store/local-store";
import type { BuildUserPool } from "./build-user-pool.ts";
import type { BuilderError } from "./builder-error.ts";
import type { CommitQueue } from "./commit-queue.ts";
import type { ScratchPool } from "./scratch-pool.ts";
import type { BuildSubstituter } from "./substitute-missing.ts";

/** What the builder needs of a store. */
export type BuildStore = Pick<
  LocalStore,
  "config" | "db" | "lockPaths" | "readDerivation" | "realPath" | "temporaryPathFor"
>;

/** Structured log lines: constant messages, details in fields such as `drv`. */
export interface BuildLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Follows the builds as they happen: a terminal (BuildTerminal) or a daemon client. */
export interface BuildReporter {
  /** Called once, with the number of derivations about to be built. */
  planned(total: number): void;
  started(drvPath: string, name: string): void;
  /** The builder's stdout and stderr, as it comes. */
  output(drvPath: string, chunk: Uint8Array): void;
  finished(result: BuildResult): void;
  warning(message: string): void;
}

export interface BuildOptions {
  /** Builds run at once (`--max-jobs`); default 1. */
  maxJobs?: number;
  /** `NIX_BUILD_CORES` (`--cores`); 0 or absent means every core of the machine. */
  cores?: number;
  /** Go on with builds that do not depend on a failed one (`--keep-going`). */
  keepGoing?: boolean;
  /** Build nothing: results say what would be built (see describeDryRun). */
  dryRun?: boolean;
  /** Rebuild the requested derivations and compare with the store (`--check`). */
  check?: boolean;
  /** Keep the build tree of failed builds (`--keep-failed`). */
  keepFailed?: boolean;
  /** Seconds without output before a build is killed (`--max-silent-time`); 0: none. */
  maxSilentTime?: number;
  /** Seconds before a build is killed (`--timeout`); 0: none. */
  timeout?: number;
  /** When running as root: each build runs as a user taken from this pool. */
  buildUserPool?: BuildUserPool;
  /** Run builders without isolation (`--disable-chroot`). */
  disableChroot?: boolean;
  /** Host paths visible read-only in every sandbox (`--chroot-directory`). */
  chrootDirs?: readonly string[];
  /** The platform builds run for; default the machine's, e.g. `x86_64-linux`. */
  system?: string;
  /** The daemon's environment, read at the edge: fixed-output builds get proxies from it. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Where build scratch directories go; default `${stateDir}/kiln/builds`. */
  buildDir?: string;
  /** Absolute path of bwrap; by default looked up in the usual system directories. */
  bwrap?: string;
  /** Fetches outputs from binary caches instead of building them (absent: `--no-substitutes`). */
  substituter?: BuildSubstituter;
  reporter?: BuildReporter;
  logger?: BuildLogger;
  /** Aborting kills the running builds and starts no new one. */
  signal?: AbortSignal;
}

/**
 * - `built`: built and registered now; `checked`: rebuilt by `--check`, identical.
 * - `already-valid`: every output was valid already (or became valid meanwhile).
 * - `would-build`: with `dryRun`, a derivation that would be built.
 * - `failed`: see `error`; `dependency-failed`: see `failedDependency`.
 * - `skipped`: not started because another build failed (without `keepGoing`), or aborted.
 */
export type BuildStatus =
  | "built"
  | "checked"
  | "already-valid"
  | "would-build"
  | "failed"
  | "dependency-failed"
  | "skipped";

export interface BuildResult {
  readonly drvPath: string;
  /** The derivation's name, e.g. `hello-2.12`. */
  readonly name: string;
  /** True for the derivations the caller asked for (their outputs are the command's result). */
  readonly requested: boolean;
  readonly status: BuildStatus;
  /** Output name → store path, as in the derivation. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Why a `failed` build failed. */
  readonly error?: BuilderError;
  /** For `dependency-failed`: the failed derivation it needed. */
  readonly failedDependency?: string;
  /** Milliseconds since the epoch, for builds that ran. */
  readonly startTime?: number;
  readonly durationMs?: number;
  /** Where the stored build log is, for builds that ran. */
  readonly logPath?: string;
  /** The kept build tree of a failed build (`keepFailed`). */
  readonly buildTreeKept?: string;
  readonly warnings: readonly string[];
}

/** BuildOptions with the defaults filled in, as buildDerivations hands them down. */
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

/** What each build of a `buildDerivations` call shares. */
export interface BuildDerivationContext {
  readonly store: BuildStore;
  /** Reads `.drv` files, cached for the whole call. */
  readDerivation(drvPath: string): Derivation;
  readonly options: ResolvedBuildOptions;
  /** Scratch directories shared by the call's builds; absent: a fresh one per build. */
  readonly scratchPool?: ScratchPool;
  /**
   * Registers outputs in groups while dependent builds already run; absent: each build
   * flushes and registers its own outputs before it is over.
   */
  readonly commits?: CommitQueue;
  /** Called with the paths a build is about to use or produce, before it checks them. */
  addTempRoots?(paths: readonly string[]): Promise<void>;
}
