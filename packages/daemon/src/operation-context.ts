/**
 * What an operation handler works with: the connection (reader, output, stderr
 * channel), the client's session (trust, protocol format, settings, temporary roots)
 * and the daemon (store, builds, options).
 *
 * A handler reads its arguments, calls `stderr.startWork()`, does the work (logging on
 * the channel), calls `stderr.stopWork()` and appends its reply to `out.frame`. An error
 * thrown after startWork is reported to the client and the connection goes on; an error
 * before it (while reading arguments) means the input could not be understood, so the
 * client is told and disconnected.
 */
import type { FrameReader } from "@kiln/formats/worker-protocol-framing";
import type { LocalStore } from "@kiln/store/local-store";
import type { BuildCoordinator } from "./build-coordinator.ts";
import type { BusyPoll } from "./busy-poll.ts";
import type { ClientSettings } from "./client-settings.ts";
import type { ConnectionOutput } from "./connection-output.ts";
import type { DaemonMetrics } from "./daemon-metrics.ts";
import type { ResolvedDaemonOptions } from "./daemon-options.ts";
import type { PathInfoCache } from "./path-info-cache.ts";
import type { ReadWriteLock } from "./read-write-lock.ts";
import type { StderrChannel } from "./stderr-channel.ts";
import type { TempRootSet, TempRoots } from "./temp-roots.ts";
import type { WireFormat } from "./wire-format.ts";

/** Structured logs of the daemon (pino's interface, narrowed). */
export interface DaemonLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface DaemonContext {
  readonly store: LocalStore;
  readonly builds: BuildCoordinator;
  readonly tempRoots: TempRoots;
  readonly options: ResolvedDaemonOptions;
  readonly logger: DaemonLogger;
  /** Shared by operations that add to the store; exclusive for garbage collection. */
  readonly gcLock: ReadWriteLock;
  readonly metrics: DaemonMetrics;
  /** Path info for queries, cached while the database is unchanged. */
  readonly pathInfo: PathInfoCache;
  /** Keeps the loop awake briefly after each answer (`--busy-poll`). */
  readonly busyPoll: BusyPoll;
}

export interface ClientSession {
  /** Connection number, for logs. */
  readonly id: number;
  readonly trusted: boolean;
  readonly format: WireFormat;
  settings: ClientSettings;
  readonly tempRoots: TempRootSet;
  /** Aborts when the client disconnects. */
  readonly signal: AbortSignal;
}

export interface OperationContext {
  readonly reader: FrameReader;
  readonly out: ConnectionOutput;
  readonly stderr: StderrChannel;
  readonly session: ClientSession;
  readonly daemon: DaemonContext;
}

export type OperationHandler = (ctx: OperationContext) => Promise<void>;

/** Operation code → handler. */
export type OperationTable = ReadonlyMap<number, OperationHandler>;
