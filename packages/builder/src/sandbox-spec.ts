/** The contract between the builder and the sandbox: what to run, and what came of it. */
import type { Writable } from "node:stream";
import type { BuildUser } from "./build-users.ts";
import type { SandboxStoreEntry } from "./sandbox-store-dir.ts";

export interface SandboxInput {
  /** Logical store path, e.g. `/gnu/store/…-busybox`; where the build sees it. */
  path: string;
  /** Where it really is on the host; bound read-only at `path`. */
  realPath: string;
}

export interface SandboxSpec {
  /** Logical store directory, e.g. `/gnu/store`. */
  storeDir: string;
  /** The closure of the derivation's inputs: the only store paths the build sees. */
  inputs: readonly SandboxInput[];
  /** Logical output paths the build is expected to create. */
  outputs: readonly string[];
  builder: string;
  args: readonly string[];
  /** The final environment (see buildEnvironment); nothing else is passed. */
  env: Readonly<Record<string, string>>;
  /** The derivation's name, e.g. `hello-2.12`, for `/tmp/kiln-build-NAME.drv-0`. */
  drvName: string;
  /** True only for fixed-output derivations: the host network and name resolution. */
  network: boolean;
  /** Host paths made visible read-only at the same path (guix-daemon's `--chroot-directory`). */
  chrootDirs?: readonly string[];
  /** When running as root: the build runs as this host uid and gid. */
  buildUser?: BuildUser;
  /** Runs the builder directly on the host, without isolation (`--disable-chroot`). */
  disableChroot?: boolean;
  /**
   * Files written into the build tree before the builder starts, by name (no slashes):
   * `passAsFile` attributes and `exportReferencesGraph` closures.
   */
  buildTreeFiles?: ReadonlyMap<string, string | Uint8Array>;
}

export interface SandboxOptions {
  /**
   * A fresh host directory for this build; its ancestors must be searchable by the
   * build user. The build tree, the sandbox's store directory and its /etc files are
   * created under `<scratchDir>/build` (see sandboxLayout).
   */
  scratchDir: string;
  /**
   * `scratchDir` was used by an earlier build of this process (its result's
   * `storeEntries`) and released by a ScratchPool: what its store directory holds is
   * reused where it still fits, removed otherwise. Without it the build directory must
   * not exist yet.
   */
  reuseScratch?: ReadonlyMap<string, SandboxStoreEntry>;
  /**
   * `scratchDir` goes back to a ScratchPool after the build: a build tree the build left
   * untouched stays for the next build instead of being removed and made again.
   */
  pooled?: boolean;
  /**
   * Set up the sandbox now, but start the builder only once this resolves, with the
   * inputs that became known meanwhile (outputs of the builds this one waits for, and
   * what they refer to; not in `spec.inputs`). Small file inputs are then copied in;
   * if one must be bound, the sandbox is set up again. Resolving with undefined means
   * not to start at all (`notStarted`); a rejection ends the sandbox and is rethrown.
   * Timeouts count from the start of the builder.
   */
  startWhen?: Promise<readonly SandboxInput[] | undefined>;
  /** Receives the builder's stdout and stderr (a Writable gets them with backpressure). */
  log?: ((chunk: Uint8Array) => void) | Writable;
  /** Kill the build after this many seconds in total (0 or absent: no limit). */
  timeoutSeconds?: number;
  /** Kill the build after this many seconds without output (0 or absent: no limit). */
  maxSilentSeconds?: number;
  /** Aborting kills the build. */
  signal?: AbortSignal;
  /** Keep the build tree of a failed build (returned as `buildTreeKept`). */
  keepFailed?: boolean;
  /** Absolute path of bwrap; by default looked up in the usual system directories. */
  bwrap?: string;
}

export interface SandboxResult {
  /**
   * The builder's exit code; a builder killed by signal N shows as 128+N (bwrap's
   * convention). Null when the sandbox itself was killed.
   */
  exitCode: number | null;
  /** The signal that ended the sandbox process, if any. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  silentTimedOut: boolean;
  aborted: boolean;
  /** Logical output path → host path, for the outputs that exist after the build. */
  outputs: Map<string, string>;
  /** Host path of the kept build tree, when the build failed and `keepFailed` was set. */
  buildTreeKept?: string;
  /**
   * What the sandbox's store directory held for the inputs (mount points and copies), by
   * name; absent without isolation. ScratchPool keeps them for the next build.
   */
  storeEntries?: ReadonlyMap<string, SandboxStoreEntry>;
  /** Set when `startWhen` said not to start: the builder never ran. */
  notStarted?: true;
  /** Things the operator should know, e.g. that the build ran without isolation. */
  warnings: string[];
}
