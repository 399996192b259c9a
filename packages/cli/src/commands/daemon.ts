/**
 * `kiln daemon`: the build daemon, with guix-daemon's options. It serves the store to
 * Nix and Guix clients (and to `kiln` itself) over the worker protocol until SIGTERM or
 * SIGINT, then stops running builds and exits cleanly.
 */
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { UsageError } from "../usage-error.ts";

interface DaemonFlags {
  listen: string[];
  listenTrusted: string[];
  trustedGroup?: string;
  buildUsersGroup?: string;
  maxJobs: string;
  cores: string;
  disableChroot?: boolean;
  chrootDirectory: string[];
  maxSilentTime: string;
  timeout: string;
  gcKeepOutputs: string | boolean;
  gcKeepDerivations: string | boolean;
  substitutes: boolean;
  substituteUrls?: string;
  trustedPublicKey: string[];
  logCompression: string;
  busyPoll: string;
  debug?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function count(what: string, value: string, min: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min) {
    throw new UsageError(
      `${what} must be a whole number of at least ${min}, not ${JSON.stringify(value)}`,
    );
  }
  return number;
}

/** `--flag` alone (commander gives true), `--flag=yes` or `--flag=no`. */
function yesNo(what: string, value: string | boolean): boolean {
  if (value === true || value === "yes" || value === "true" || value === "") return true;
  if (value === "no" || value === "false") return false;
  throw new UsageError(`${what} takes yes or no, not ${JSON.stringify(value)}`);
}

/** The environment `createProgram` was given (the edge): LISTEN_FDS and friends. */
function environmentOf(command: Command): Readonly<Record<string, string | undefined>> {
  let root = command;
  while (root.parent) root = root.parent;
  return (root as Command & { kilnEnv?: Record<string, string | undefined> }).kilnEnv ?? {};
}

export function registerDaemonCommand(program: Command): void {
  program
    .command("daemon")
    .description("run the build daemon, serving the store to Kiln, Nix and Guix clients")
    .option(
      "--listen <endpoint>",
      "listen on a unix socket (an absolute path) or TCP HOST[:PORT] (port 44146); repeatable",
      collect,
      [],
    )
    .option(
      "--listen-trusted <socket>",
      "also listen on a unix socket whose clients are trusted (mode 0600, or 0660 with --trusted-group); repeatable",
      collect,
      [],
    )
    .option("--trusted-group <group>", "members of this group may use the trusted sockets")
    .option("--build-users-group <group>", "run builds as the users of this group (when root)")
    .option("-M, --max-jobs <n>", "builds at once, across all clients", "1")
    .option("-c, --cores <n>", "cores each build may use (NIX_BUILD_CORES); 0: all", "0")
    .option("--disable-chroot", "run builders without the sandbox (needed when not root)")
    .option(
      "--chroot-directory <dir>",
      "make a host directory visible in every sandbox; repeatable",
      collect,
      [],
    )
    .option("--max-silent-time <seconds>", "kill builds silent for this long; 0: never", "0")
    .option("--timeout <seconds>", "kill builds running this long; 0: never", "0")
    .option("--gc-keep-outputs [yes|no]", "keep the outputs of live derivations", "no")
    .option("--gc-keep-derivations [yes|no]", "keep the derivations of live outputs", "yes")
    .option("--no-substitutes", "build instead of substituting")
    .option("--substitute-urls <urls>", "substitute servers, space-separated")
    .option(
      "--trusted-public-key <key>",
      "a Nix public key (name:base64) whose signatures let any client import a path; repeatable",
      collect,
      [],
    )
    .option(
      "--log-compression <type>",
      "gzip, bzip2 or none (build logs are kept gzip-compressed)",
      "gzip",
    )
    .option(
      "--busy-poll <microseconds>",
      "keep polling this long after each answer instead of sleeping; 0: off",
      "200",
    )
    .option("--debug", "log every connection and operation")
    .addHelpText(
      "after",
      `
Without --listen, the daemon listens on \${stateDir}/kiln/daemon-socket/socket (mode 0666)
and on trusted-socket beside it (mode 0600). With systemd socket activation (LISTEN_FDS),
it serves the sockets it is given; one named "trusted" (LISTEN_FDNAMES) is trusted.

Trust: clients of the ordinary socket and of TCP may query, add content-addressed data
and build derivations; importing unsigned input-addressed paths, repairing, and turning
the sandbox off need the trusted socket. (Node cannot read a peer's uid from a socket,
so trust follows the socket's permissions instead.)

Examples:
  kiln daemon --build-users-group=kilnbuild --max-jobs=4
  kiln --store-dir /nix/store --real-store-dir /srv/store --state-dir /srv/state daemon --listen /tmp/kiln.sock
  nix-store --store unix:///var/kiln/daemon-socket/socket --add ./file
`,
    )
    .action(async (flags: DaemonFlags, command: Command) => {
      const config = configOf(command);
      const env = environmentOf(command);
      const { createDaemonLogger } = await import("@kiln/daemon/daemon-logger");
      const { parseListenEndpoint } = await import("@kiln/daemon/parse-listen-endpoint");
      const { systemdListenEndpoints } = await import("@kiln/daemon/systemd-listen-endpoints");
      const { startDaemon } = await import("@kiln/daemon/start-daemon");
      const { LocalStore } = await import("@kiln/store/local-store");
      const logCompression = flags.logCompression;
      if (logCompression !== "gzip" && logCompression !== "bzip2" && logCompression !== "none") {
        throw new UsageError(
          `--log-compression takes gzip, bzip2 or none, not ${JSON.stringify(logCompression)}`,
        );
      }
      const inherited = systemdListenEndpoints(env);
      const listen = [
        ...flags.listen.map((value) => parseListenEndpoint(value)),
        ...flags.listenTrusted.map((path) => {
          if (!path.startsWith("/"))
            throw new UsageError(`--listen-trusted takes a socket path, not ${path}`);
          return { kind: "unix" as const, path, trusted: true, group: flags.trustedGroup };
        }),
        ...inherited,
      ];
      const logger = createDaemonLogger({ debug: flags.debug });
      const store = LocalStore.open(config);
      // Substitutes are trusted when signed by a key of the ACL (kiln archive --authorize).
      const { existsSync, readFileSync } = await import("node:fs");
      const { join } = await import("node:path");
      const { parseTrustedKeys } = await import("@kiln/formats/verify-narinfo");
      const { createDaemonSubstituter } = await import("@kiln/daemon/substituter-adapter");
      const aclFile = join(config.configDir, "acl");
      const substituteUrls = flags.substituteUrls?.split(/\s+/).filter((url) => url !== "") ?? [];
      const substituter = createDaemonSubstituter({
        store,
        defaultUrls: substituteUrls,
        trustedKeys: existsSync(aclFile) ? parseTrustedKeys(readFileSync(aclFile, "utf8")) : [],
        proxy: config.proxy,
        onWarning: (message) => logger.warn({ component: "substituter" }, message),
      });
      try {
        const daemon = await startDaemon(store, {
          ...(listen.length > 0 ? { listen } : {}),
          maxJobs: count("--max-jobs", flags.maxJobs, 1),
          cores: count("--cores", flags.cores, 0),
          maxSilentTime: count("--max-silent-time", flags.maxSilentTime, 0),
          timeout: count("--timeout", flags.timeout, 0),
          buildUsersGroup: flags.buildUsersGroup,
          disableChroot: flags.disableChroot === true,
          chrootDirs: flags.chrootDirectory,
          gcKeepOutputs: yesNo("--gc-keep-outputs", flags.gcKeepOutputs),
          gcKeepDerivations: yesNo("--gc-keep-derivations", flags.gcKeepDerivations),
          useSubstitutes: flags.substitutes,
          substituteUrls,
          substituter,
          trustedPublicKeys: flags.trustedPublicKey,
          logCompression,
          busyPollMicros: count("--busy-poll", flags.busyPoll, 0),
          hostEnv: env,
          logger,
        });
        await new Promise<void>((resolve) => {
          process.once("SIGTERM", resolve);
          process.once("SIGINT", resolve);
        });
        await daemon.close();
      } finally {
        substituter.close();
        store.close();
      }
    });
}
