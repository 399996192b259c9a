/**
 * The numbers of the Nix/Guix worker protocol: handshake magic, protocol versions,
 * operation codes, stderr-channel message tags, and the enumerations carried in
 * messages (activity and result types, build statuses and modes, verbosity levels).
 *
 * Versions are `major << 8 | minor`. Kiln announces 1.34, what Nix 2.8 speaks. A Guix
 * client announces 0x163 (minor 99), far above any Nix minor, so a client minor of 0x60
 * or more marks the Guix dialect: Guix's client takes the daemon's minor for its own
 * decisions, but frames a few operations the old way whatever the version says.
 */

export const WORKER_MAGIC_1 = 0x6e697863; // "cxin"
export const WORKER_MAGIC_2 = 0x6478696f; // "oixd"

/** What Kiln speaks: 1.34, as Nix 2.8. */
export const PROTOCOL_VERSION = (1 << 8) | 34;
/** The oldest client accepted (1.10, as Nix 2.8). */
export const MINIMUM_CLIENT_VERSION = 0x10a;
/** A client minor at or above this is Guix's client (Guix numbers its protocol from 0x160). */
export const GUIX_MINOR_FLOOR = 0x60;

export function protocolMajor(version: number): number {
  return version & 0xff00;
}

export function protocolMinor(version: number): number {
  return version & 0x00ff;
}

/** Which client family is on the other end: they differ in a few encodings. */
export type ProtocolDialect = "nix" | "guix";

/** Operation codes (worker-protocol.hh), Nix's and Guix's, which agree where both exist. */
export const WorkerOp = {
  IsValidPath: 1,
  HasSubstitutes: 3,
  QueryPathHash: 4,
  QueryReferences: 5,
  QueryReferrers: 6,
  AddToStore: 7,
  AddTextToStore: 8,
  BuildPaths: 9,
  EnsurePath: 10,
  AddTempRoot: 11,
  AddIndirectRoot: 12,
  SyncWithGC: 13,
  FindRoots: 14,
  ExportPath: 16,
  QueryDeriver: 18,
  SetOptions: 19,
  CollectGarbage: 20,
  QuerySubstitutablePathInfo: 21,
  QueryDerivationOutputs: 22,
  QueryAllValidPaths: 23,
  QueryFailedPaths: 24,
  ClearFailedPaths: 25,
  QueryPathInfo: 26,
  ImportPaths: 27,
  QueryDerivationOutputNames: 28,
  QueryPathFromHashPart: 29,
  QuerySubstitutablePathInfos: 30,
  QueryValidPaths: 31,
  QuerySubstitutablePaths: 32,
  QueryValidDerivers: 33,
  OptimiseStore: 34,
  VerifyStore: 35,
  BuildDerivation: 36,
  AddSignatures: 37,
  NarFromPath: 38,
  AddToStoreNar: 39,
  QueryMissing: 40,
  QueryDerivationOutputMap: 41,
  RegisterDrvOutput: 42,
  QueryRealisation: 43,
  AddMultipleToStore: 44,
  AddBuildLog: 45,
  BuildPathsWithResults: 46,
  /** Guix only. */
  BuiltinBuilders: 80,
  /** Guix only. */
  SubstituteURLs: 81,
} as const;

export type WorkerOpName = keyof typeof WorkerOp;

/** Operation code → name, for logs and error messages. */
export const WORKER_OP_NAMES: ReadonlyMap<number, WorkerOpName> = new Map(
  Object.entries(WorkerOp).map(([name, code]) => [code, name as WorkerOpName]),
);

/** Tags of the messages the daemon sends on the stderr channel while an operation runs. */
export const Stderr = {
  Next: 0x6f6c6d67,
  Read: 0x64617461,
  Write: 0x64617416,
  Last: 0x616c7473,
  Error: 0x63787470,
  StartActivity: 0x53545254,
  StopActivity: 0x53544f50,
  Result: 0x52534c54,
} as const;

/** Nix's verbosity levels. */
export const Verbosity = {
  Error: 0,
  Warn: 1,
  Notice: 2,
  Info: 3,
  Talkative: 4,
  Chatty: 5,
  Debug: 6,
  Vomit: 7,
} as const;

/** Nix's activity types (logging.hh). */
export const ActivityType = {
  Unknown: 0,
  CopyPath: 100,
  FileTransfer: 101,
  Realise: 102,
  CopyPaths: 103,
  Builds: 104,
  Build: 105,
  OptimiseStore: 106,
  VerifyPaths: 107,
  Substitute: 108,
  QueryPathInfo: 109,
  PostBuildHook: 110,
  BuildWaiting: 111,
} as const;

/** Nix's result types: what a STDERR_RESULT message reports about an activity. */
export const ResultType = {
  FileLinked: 100,
  BuildLogLine: 101,
  UntrustedPath: 102,
  CorruptedPath: 103,
  SetPhase: 104,
  Progress: 105,
  SetExpected: 106,
  PostBuildLogLine: 107,
} as const;

/** BuildResult::Status in Nix 2.8. */
export const BuildStatusCode = {
  Built: 0,
  Substituted: 1,
  AlreadyValid: 2,
  PermanentFailure: 3,
  InputRejected: 4,
  OutputRejected: 5,
  TransientFailure: 6,
  CachedFailure: 7,
  TimedOut: 8,
  MiscFailure: 9,
  DependencyFailed: 10,
  LogLimitExceeded: 11,
  NotDeterministic: 12,
  ResolvesToAlreadyValid: 13,
  NoSubstituters: 14,
} as const;

/** BuildMode: how BuildPaths treats outputs that are already valid. */
export const BuildMode = {
  Normal: 0,
  Repair: 1,
  Check: 2,
} as const;

/** GCOptions::GCAction. */
export const GcAction = {
  ReturnLive: 0,
  ReturnDead: 1,
  DeleteDead: 2,
  DeleteSpecific: 3,
} as const;

/** A field of an activity or result message: an integer or a string. */
export type ActivityField = number | string;
