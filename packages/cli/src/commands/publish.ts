/**
 * `kiln publish`: serve the store as a binary cache that Guix and Nix clients both use,
 * like `guix publish` (same options, same endpoints), with narinfos signed twice.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { configOf } from "../global-config.ts";
import { UsageError } from "../usage-error.ts";

interface PublishFlags {
  port: string;
  listen: string;
  user?: string;
  compression: string[];
  cache?: string;
  cacheBypassThreshold: string;
  workers?: string;
  serveProcesses?: string;
  ttl?: string;
  negativeTtl?: string;
  narPath: string;
  publicKey?: string;
  privateKey?: string;
  keyName?: string;
  priority: string;
  logLevel: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function integer(what: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < min || value > max) {
    throw new UsageError(
      `${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

const HELP_AFTER = `
Endpoints:
  /nix-cache-info                StoreDir, WantMassQuery, Priority
  /<hash>.narinfo                signed with a Nix Sig: line and a Guix Signature: line
  /<nar-path>/<method>/<item>    the nar, compressed (gzip, zstd, lzip); /<nar-path>/<item> uncompressed
  /log/<drv>                     build log (Content-Encoding: gzip)
  /file/<name>/sha256/<nix32>    content of a flat fixed-output item
  /signing-key.pub  /metrics

Each --compression gives one URL group in narinfos, in the order given. Guix clients
choose among them; Nix 2.8 reads only one group and takes the LAST, so put the method
meant for Nix clients last (e.g. -C gzip -C zstd). Levels: gzip and lzip 1-9, zstd
1-19 (default 3); a bare number is a gzip level, 0 means none. lzip runs the lzip
program, which must be installed. Items that are compressed files already (names
ending in .gz, .xz, .bz2, .lz, .zip, …) are offered only uncompressed, as by Guix.

With --cache, nars are compressed ahead of time ("baked") by --workers workers, and
narinfos list the baked files' FileSize and FileHash. Until an item is baked its
narinfo is a 404 ("We're baking it", max-age=300), except for items smaller than
--cache-bypass-threshold, which are served live meanwhile: a temporary narinfo
(max-age=300, no compressed FileSize) and nars compressed at level 2 at most.

--serve-processes N runs N processes on the port (the kernel spreads connections
among them, SO_REUSEPORT), so that serving uses every core; --workers is about
baking, as in guix publish. Each process opens the socket, then drops to --user.
/metrics sums the counts of all processes; only the first one bakes.

Durations: a number and s, h, d, w or m (30 days), e.g. 5d. Sizes: 500K, 10M, 1GiB.
CONFIG_DIR is /etc/kiln, or $KILN_CONFIG_DIR.

Examples:
  kiln archive --generate-key
  kiln publish --port 8080 -C zstd:6
  kiln publish --listen 0.0.0.0 -u kiln-publish -c /var/cache/kiln/publish -C gzip -C zstd
  nix copy --from http://farm:8080 --option trusted-public-keys "$(kiln archive --export-key --format nix)" /nix/store/…
`;

export function registerPublishCommand(program: Command): void {
  program
    .command("publish")
    .description("serve the store over HTTP as a binary cache for Guix and Nix clients")
    .option("-p, --port <port>", "TCP port to listen on (0 picks a free one)", "8080")
    .option(
      "--listen <host>",
      "address to listen on; 0.0.0.0 or :: for all interfaces",
      "127.0.0.1",
    )
    .option("-u, --user <user>", "switch to USER once the keys are read and the socket is open")
    .addOption(
      new Option(
        "-C, --compression <method[:level]>",
        "serve nars compressed with METHOD (none, gzip, zstd) at LEVEL; repeatable",
      )
        .argParser(collect)
        .default([], "gzip:3"),
    )
    .option(
      "-c, --cache <dir>",
      "bake compressed nars into DIR ahead of time and serve them from there",
    )
    .option(
      "--cache-bypass-threshold <size>",
      "with --cache: serve items smaller than SIZE live while they are being baked",
      "10M",
    )
    .option("--workers <n>", "with --cache: items baked at the same time (default: number of CPUs)")
    .option(
      "--serve-processes <n>",
      "processes answering requests on the port (default: number of CPUs)",
    )
    .option("--ttl <duration>", "Cache-Control max-age of narinfos and nars (e.g. 5d)")
    .option("--negative-ttl <duration>", "Cache-Control max-age of 404 answers (e.g. 1h)")
    .option("--nar-path <path>", "URL path prefix of nars", "nar")
    .option(
      "--public-key <file>",
      "public key served at /signing-key.pub (default: CONFIG_DIR/signing-key.pub)",
    )
    .option(
      "--private-key <file>",
      "secret key that signs narinfos (default: CONFIG_DIR/signing-key.sec)",
    )
    .option("--key-name <name>", "Nix key name in Sig: lines (default: kiln-<hostname>-1)")
    .option("--priority <n>", "Priority in /nix-cache-info (lower is preferred by Nix)", "100")
    .addOption(
      new Option("--log-level <level>", "log verbosity (JSON logs on stderr)")
        .choices(["silent", "error", "warn", "info", "debug"])
        .default("info"),
    )
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: PublishFlags, command: Command) => {
      const publish = await import("@kiln/publish");
      const { readSecretKey } = await import("@kiln/keys/signing-key");
      const { readPublicKey } = await import("@kiln/keys/read-public-key");
      const { kilnStateDir } = await import("@kiln/store/store-config");
      const { default: pino } = await import("pino");
      const config = configOf(command);
      const port = integer("--port", flags.port, 0, 65535);
      const priority = integer("--priority", flags.priority, 0, 1_000_000);
      const compressions = (flags.compression.length > 0 ? flags.compression : ["gzip:3"]).map(
        publish.parseCompression,
      );
      const cache =
        flags.cache === undefined
          ? undefined
          : {
              dir: flags.cache,
              bypassThreshold: publish.parseSize(flags.cacheBypassThreshold),
              workers:
                flags.workers === undefined
                  ? availableParallelism()
                  : integer("--workers", flags.workers, 1, 1024),
            };
      if (flags.cache === undefined && flags.workers !== undefined) {
        throw new UsageError("--workers only applies with --cache");
      }
      // Keys first: the secret key is mode 0400 and unreadable once --user has taken effect.
      const publicKeyFile = flags.publicKey ?? join(config.configDir, "signing-key.pub");
      const secretKeyFile = flags.privateKey ?? join(config.configDir, "signing-key.sec");
      const key = readSecretKey(secretKeyFile);
      const publicKey = readPublicKey(publicKeyFile);
      if (!Buffer.from(publicKey.q).equals(key.q)) {
        throw new UsageError(
          `${publicKeyFile} is not the public half of ${secretKeyFile}`,
          "pass the matching --public-key, or regenerate the pair",
        );
      }
      const { readFileSync } = await import("node:fs");
      const logger = pino({ level: flags.logLevel }, pino.destination(2));
      const serveProcesses =
        flags.serveProcesses === undefined
          ? availableParallelism()
          : integer("--serve-processes", flags.serveProcesses, 1, 256);
      const server = await publish.startPublishProcesses({
        storeConfig: {
          storeDir: config.storeDir,
          realStoreDir: config.realStoreDir,
          stateDir: config.stateDir,
        },
        serveProcesses,
        logLevel: flags.logLevel,
        key,
        publicKeyText: readFileSync(publicKeyFile, "utf8"),
        keyName: flags.keyName,
        compressions,
        narPath: flags.narPath,
        ttl: flags.ttl === undefined ? undefined : publish.parseDuration(flags.ttl),
        negativeTtl:
          flags.negativeTtl === undefined ? undefined : publish.parseDuration(flags.negativeTtl),
        priority,
        logDir: join(kilnStateDir(config), "log", "drvs"),
        cache,
        logger,
        port,
        listen: flags.listen,
        user: flags.user,
      });
      process.stdout.write(`publishing ${config.storeDir} on ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          logger.info("stopping");
          server.close().then(resolve, resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
