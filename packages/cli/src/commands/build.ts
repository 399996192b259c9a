/**
 * `kiln build FILE.drv…`: realise derivations as `guix build` does, dependencies first, in
 * the sandbox; print the output paths of what was asked for, one a line.
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import type { CliConfig } from "../cli-config.ts";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { UsageError } from "../usage-error.ts";
import { CHANNEL_HELP, collectChannel } from "./packages.ts";

interface BuildCommandOptions {
  maxJobs: string;
  cores: string;
  keepGoing?: boolean;
  dryRun?: boolean;
  check?: boolean;
  keepFailed?: boolean;
  maxSilentTime: string;
  timeout: string;
  logFile?: boolean;
  buildUsersGroup: string;
  disableChroot?: boolean;
  chrootDirectory: string[];
  system?: string;
  substituteUrls?: string;
  substitutes: boolean;
  file?: string;
  attribute?: string;
  channel: string[];
  derivations?: boolean;
  source?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function count(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} takes a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

export function registerBuildCommand(program: Command): void {
  program
    .command("build")
    .description("build derivations (.drv files or .drv store paths) and print their output paths")
    .argument("[target...]", "derivations (.drv files or store paths) or packages (NAME[@VERSION])")
    .option("-M, --max-jobs <n>", "builds to run at once", "1")
    .option("-c, --cores <n>", "NIX_BUILD_CORES for each build (0: all cores)", "0")
    .option("-k, --keep-going", "go on with builds that do not depend on a failed one")
    .option("-n, --dry-run", "only list the derivations that would be built")
    .option("--check", "rebuild derivations whose outputs are valid and report non-determinism")
    .option("-K, --keep-failed", "keep the build tree of failed builds")
    .option("--max-silent-time <s>", "kill a build silent for this many seconds (0: never)", "0")
    .option("--timeout <s>", "kill a build running longer than this many seconds (0: never)", "0")
    .option(
      "--log-file",
      "print the stored build log of each derivation (or output path) instead of building",
    )
    .option(
      "--build-users-group <group>",
      "when root, run each build as a user of this group",
      "kilnbuild",
    )
    .option(
      "--disable-chroot",
      "run builders without isolation (hosts without user namespaces); warns",
    )
    .option(
      "--chroot-directory <dir>",
      "make a host path visible read-only in every sandbox; repeatable",
      collect,
      [],
    )
    .option("--system <system>", "the platform to build for (default: this machine's)")
    .option(
      "--substitute-urls <urls>",
      "binary caches to fetch outputs from before building (space-separated, tried in order)",
    )
    .option("--no-substitutes", "build everything locally, never fetch substitutes")
    .option("-f, --file <file>", "build the package exported by the TypeScript module FILE")
    .option("-A, --attribute <name>", "with -f: the export (or package name) to build")
    .option("--channel <dir>", CHANNEL_HELP, collectChannel, [])
    .option("-d, --derivations", "print the .drv paths instead of building")
    .option(
      "-S, --source",
      "build the packages' sources (the origins) instead of the packages; with -d, print their .drv",
    )
    .addHelpText(
      "after",
      "\nWith a daemon running, packages are lowered here and their sources and .drv files sent to\nthe daemon, which builds them (as guix build does with guix-daemon).\n\nExamples:\n  kiln build hello\n  kiln build -S hello          # its source only\n  kiln build /gnu/store/…-hello-2.12.drv\n  kiln build -M 2 --chroot-directory /bin/sh ./foo.drv\n  kiln build --log-file /gnu/store/…-hello-2.12.drv | less\n\nExit status: 0 when everything asked for was built or already valid, 1 otherwise.\n",
    )
    .action(async (files: string[], options: BuildCommandOptions, command: Command) => {
      const config = configOf(command);
      if (options.logFile) {
        await printLogs(config, files);
        return;
      }
      const maxJobs = count("--max-jobs", options.maxJobs, 1);
      const cores = count("--cores", options.cores, 0);
      const maxSilentTime = count("--max-silent-time", options.maxSilentTime, 0);
      const timeout = count("--timeout", options.timeout, 0);
      if (files.length === 0 && !options.file)
        throw new UsageError(
          "nothing to build",
          "name derivations or packages, or pass -f FILE.ts",
        );
      const { connectDaemon } = await import("../open-daemon.ts");
      const { buildTargets } = await import("../build-targets.ts");
      const { hostSystem } = await import("@kiln/builder/host-system");
      const targetOptions = {
        source: options.source,
        system: options.system ?? hostSystem(),
        file: options.file,
        attribute: options.attribute,
        channelDirs: async () => {
          const { currentChannelDirs } = await import("../current-channels.ts");
          return currentChannelDirs(command, options.channel);
        },
      };
      const client = await connectDaemon(config);
      if (client) {
        const { addDerivationFile, buildThroughDaemon } = await import(
          "../build-through-daemon.ts"
        );
        const { daemonStoreWriter } = await import("../daemon-store-writer.ts");
        if (options.chrootDirectory.length > 0 || options.disableChroot || options.substituteUrls) {
          process.stderr.write(
            "warning: sandbox and substitute settings are the daemon's; ignored here\n",
          );
        }
        try {
          // Lowered here and sent to the daemon, as `guix build` does.
          const targets = await buildTargets(daemonStoreWriter(client, config.storeDir), files, {
            ...targetOptions,
            addDerivation: (file) => addDerivationFile(client, config, file),
          });
          if (options.derivations) {
            for (const path of targets.derivations) process.stdout.write(`${path}\n`);
            return;
          }
          const outputs = await buildThroughDaemon(
            client,
            targets.drvPaths,
            {
              maxJobs,
              cores,
              maxSilentTime,
              timeout,
              substitutes: options.substitutes,
              keepGoing: options.keepGoing,
              keepFailed: options.keepFailed,
              check: options.check,
              dryRun: options.dryRun,
            },
            process.stderr,
          );
          const printed = targets.sources && !options.dryRun ? targets.sources : outputs;
          for (const path of printed) process.stdout.write(`${path}\n`);
        } finally {
          client.close();
        }
        return;
      }
      const { buildDerivations } = await import("@kiln/builder/build-derivations");
      const { BuildTerminal } = await import("@kiln/builder/build-terminal");
      const { describeDryRun } = await import("@kiln/builder/describe-dry-run");
      const { KilnError } = await import("@kiln/formats/kiln-error");
      await withStore(config, async (store) => {
        const targets = await buildTargets(store, files, {
          ...targetOptions,
          addDerivation: (file) => storeDerivation(store, config, file),
        });
        const drvPaths = [...targets.drvPaths];
        if (options.derivations) {
          for (const path of targets.derivations) process.stdout.write(`${path}\n`);
          return;
        }
        const buildUserPool = options.dryRun ? undefined : await buildUsers(options);
        const { openBuildSubstituter } = await import("../build-substituter.ts");
        const urls = options.substitutes
          ? (options.substituteUrls ?? "").split(/\s+/).filter(Boolean)
          : [];
        const substitutes = await openBuildSubstituter(store, config, urls, (message) =>
          process.stderr.write(`warning: ${message}\n`),
        );
        const terminal = new BuildTerminal(process.stderr, { maxJobs });
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        let results: Awaited<ReturnType<typeof buildDerivations>>;
        try {
          results = await buildDerivations(store, drvPaths, {
            maxJobs,
            cores,
            keepGoing: options.keepGoing,
            dryRun: options.dryRun,
            check: options.check,
            keepFailed: options.keepFailed,
            maxSilentTime,
            timeout,
            buildUserPool,
            disableChroot: options.disableChroot,
            chrootDirs: options.chrootDirectory.map((dir) => resolve(dir)),
            system: options.system,
            hostEnv: (command.parent as Command & { kilnEnv?: Record<string, string | undefined> })
              .kilnEnv,
            reporter: terminal,
            signal: abort.signal,
            substituter: substitutes?.substituter,
          });
        } finally {
          substitutes?.close();
          terminal.close();
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
        }
        if (options.dryRun) {
          process.stderr.write(describeDryRun(results));
          return;
        }
        const failed = results.filter(
          (result) => result.status === "failed" || result.status === "dependency-failed",
        );
        // The terminal has already said why each build failed; add where a kept tree is.
        for (const result of failed) {
          if (result.buildTreeKept)
            process.stderr.write(`note: keeping build directory ${result.buildTreeKept}\n`);
        }
        if (targets.sources && failed.length === 0)
          for (const path of targets.sources) process.stdout.write(`${path}\n`);
        for (const result of targets.sources ? [] : results) {
          if (
            result.requested &&
            result.status !== "failed" &&
            result.status !== "dependency-failed" &&
            result.status !== "skipped"
          ) {
            for (const path of Object.values(result.outputs)) process.stdout.write(`${path}\n`);
          }
        }
        if (
          failed.length > 0 ||
          results.some((result) => result.requested && result.status === "skipped")
        ) {
          throw new KilnError(
            "ERR_BUILD_FAILED",
            `${failed.length} build${failed.length === 1 ? "" : "s"} failed`,
            {
              hint: "kiln build --log-file DRV shows a build's log",
            },
          );
        }
      });
    });
}

/** A `.drv` store path as is; a `.drv` file elsewhere is added to the store first, as Guix would. */
async function storeDerivation(
  store: import("@kiln/store/local-store").LocalStore,
  config: CliConfig,
  file: string,
): Promise<string> {
  const absolute = resolve(file);
  if (absolute.startsWith(`${config.storeDir}/`)) return absolute;
  if (!absolute.endsWith(".drv")) throw new UsageError(`${file} is not a derivation (.drv)`);
  const { parseDerivation } = await import("@kiln/formats/parse-derivation");
  const text = readFileSync(absolute);
  const drv = parseDerivation(text);
  // Named as in the store (`<hash>-<name>.drv` → `<name>.drv`) so the path comes out the same.
  const name = basename(absolute).replace(/^[0-9a-df-np-sv-z]{32}-/, "");
  return store.addTextToStore(name, text, [...drv.inputSrcs, ...drv.inputDrvs.keys()]);
}

/** When root, the build users of the group; otherwise (or without the group) none. */
async function buildUsers(options: BuildCommandOptions) {
  if (options.disableChroot || process.getuid?.() !== 0) return undefined;
  const { readBuildUsers } = await import("@kiln/builder/build-users");
  const { BuildUserPool } = await import("@kiln/builder/build-user-pool");
  try {
    return new BuildUserPool(readBuildUsers(options.buildUsersGroup));
  } catch {
    process.stderr.write(
      `warning: build users group ${options.buildUsersGroup} not found; builds run without a dedicated uid (create it with: kiln build-users --apply)\n`,
    );
    return undefined;
  }
}

async function printLogs(config: CliConfig, paths: string[]): Promise<void> {
  const { readBuildLog } = await import("@kiln/builder/read-build-log");
  const { KilnError } = await import("@kiln/formats/kiln-error");
  await withStore(config, async (store) => {
    for (const path of paths) {
      const log = readBuildLog(store.config, store.db, resolve(path));
      if (!log) throw new KilnError("ERR_NOT_FOUND", `no build log for ${path}`);
      await pipeline(log, process.stdout, { end: false });
    }
  });
}
