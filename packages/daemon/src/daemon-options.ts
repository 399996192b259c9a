/**
 * How a daemon is set up: where it listens and how it builds, as `kiln daemon`'s flags
 * (guix-daemon's) say, with their defaults. Parsed at the edge; nothing here reads the
 * environment.
 */
import { join } from "node:path";
import type { BuildUserPool } from "@kiln/builder/build-user-pool";
import { kilnStateDir, type StoreConfig } from "@kiln/store/store-config";
import type { DaemonSubstituter } from "./daemon-substituter.ts";
import type { DaemonLogger } from "./operation-context.ts";

/** Where the daemon accepts connections. */
export type ListenEndpoint =
  | {
      readonly kind: "unix";
      readonly path: string;
      /** Clients of this socket are trusted; it is created mode 0600 (0660 with `gid`). */
      readonly trusted?: boolean;
      /** Group (name or gid) of a trusted socket, whose members are then trusted too. */
      readonly group?: string | number;
    }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  /** A listening socket inherited from systemd (LISTEN_FDS). */
  | { readonly kind: "fd"; readonly fd: number; readonly trusted?: boolean };

export interface DaemonOptions {
  /** Default: the socket `${stateDir}/kiln/daemon-socket/socket` (mode 0666, untrusted) and `trusted-socket` beside it (mode 0600, trusted). */
  readonly listen?: readonly ListenEndpoint[];
  /** Builds at once, across clients (`--max-jobs`); default 1. */
  readonly maxJobs?: number;
  /** `NIX_BUILD_CORES` (`--cores`); 0: all cores. */
  readonly cores?: number;
  /** Seconds (`--max-silent-time`, `--timeout`); 0: no limit. Clients may set their own. */
  readonly maxSilentTime?: number;
  readonly timeout?: number;
  /** Build users, when running as root: a pool, or the group to read them from (`--build-users-group`). */
  readonly buildUserPool?: BuildUserPool;
  readonly buildUsersGroup?: string;
  readonly disableChroot?: boolean;
  /** Host paths visible in every sandbox (`--chroot-directory`). */
  readonly chrootDirs?: readonly string[];
  /** Defaults as Guix: outputs no, derivations yes. */
  readonly gcKeepOutputs?: boolean;
  readonly gcKeepDerivations?: boolean;
  /** False with `--no-substitutes`. */
  readonly useSubstitutes?: boolean;
  readonly substituteUrls?: readonly string[];
  readonly substituter?: DaemonSubstituter;
  /** Nix public keys (`name:base64`) whose signatures let any client import a path. */
  readonly trustedPublicKeys?: readonly string[];
  /** Refuse unsigned input-addressed paths even from trusted clients that ask for checks (Nix's require-sigs); default true. */
  readonly requireSignatures?: boolean;
  /** Build logs are gzip-compressed; other values are accepted and reported as unsupported. */
  readonly logCompression?: "gzip" | "bzip2" | "none";
  /** The daemon's environment (read at the edge): proxies for fixed-output builds. */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Platform of local builds; default the machine's. */
  readonly system?: string;
  readonly bwrap?: string;
  readonly logger?: DaemonLogger;
  /** Signs a Guix export archive item (given the digest Guix signs); ExportPath with signing needs it. */
  readonly signArchive?: (digest: Uint8Array) => string;
  /** The version told to clients that ask (protocol 1.33+). */
  readonly nixVersion?: string;
  /** Microseconds the event loop keeps polling after each answer (see BusyPoll); default 200, 0: off. */
  readonly busyPollMicros?: number;
}

export type ResolvedDaemonOptions = Required<
  Pick<
    DaemonOptions,
    | "listen"
    | "maxJobs"
    | "cores"
    | "maxSilentTime"
    | "timeout"
    | "disableChroot"
    | "chrootDirs"
    | "gcKeepOutputs"
    | "gcKeepDerivations"
    | "useSubstitutes"
    | "substituteUrls"
    | "trustedPublicKeys"
    | "requireSignatures"
    | "logCompression"
    | "hostEnv"
    | "nixVersion"
    | "busyPollMicros"
  >
> &
  Pick<DaemonOptions, "buildUserPool" | "substituter" | "system" | "bwrap" | "signArchive">;

/** `${stateDir}/kiln/daemon-socket/socket`, where clients look for the daemon. */
export function defaultSocketPath(config: Pick<StoreConfig, "stateDir">): string {
  return join(kilnStateDir(config), "daemon-socket", "socket");
}

/** The trusted socket beside it, reachable only by the daemon's user (root). */
export function defaultTrustedSocketPath(config: Pick<StoreConfig, "stateDir">): string {
  return join(kilnStateDir(config), "daemon-socket", "trusted-socket");
}

export function resolveDaemonOptions(
  config: Pick<StoreConfig, "stateDir">,
  options: DaemonOptions,
): ResolvedDaemonOptions {
  return {
    listen: options.listen ?? [
      { kind: "unix", path: defaultSocketPath(config) },
      { kind: "unix", path: defaultTrustedSocketPath(config), trusted: true },
    ],
    maxJobs: options.maxJobs ?? 1,
    cores: options.cores ?? 0,
    maxSilentTime: options.maxSilentTime ?? 0,
    timeout: options.timeout ?? 0,
    disableChroot: options.disableChroot ?? false,
    chrootDirs: options.chrootDirs ?? [],
    gcKeepOutputs: options.gcKeepOutputs ?? false,
    gcKeepDerivations: options.gcKeepDerivations ?? true,
    useSubstitutes: options.useSubstitutes ?? true,
    substituteUrls: options.substituteUrls ?? [],
    trustedPublicKeys: options.trustedPublicKeys ?? [],
    requireSignatures: options.requireSignatures ?? true,
    logCompression: options.logCompression ?? "gzip",
    hostEnv: options.hostEnv ?? {},
    nixVersion: options.nixVersion ?? "2.8.0 (Kiln 0.1.0)",
    busyPollMicros: options.busyPollMicros ?? 200,
    buildUserPool: options.buildUserPool,
    substituter: options.substituter,
    system: options.system,
    bwrap: options.bwrap,
    signArchive: options.signArchive,
  };
}
