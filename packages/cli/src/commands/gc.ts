/**
 * `kiln gc`: the garbage collector, with `guix gc`'s options. One action per run
 * (collecting is the default); `-d` deletes old generations first and combines with
 * collecting. Informational lines go to standard error, lists to standard output.
 */
import { lstatSync, readlinkSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { StoreConfig } from "@kiln/store/store-config";
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { UsageError } from "../usage-error.ts";

interface GcOptions {
  collectGarbage?: string | true;
  freeSpace?: string;
  deleteGenerations?: string | true;
  delete?: boolean;
  listRoots?: boolean;
  listBusy?: boolean;
  listDead?: boolean;
  listLive?: boolean;
  references?: boolean;
  referrers?: boolean;
  requisites?: boolean;
  derivers?: boolean;
  verify?: string | true;
  optimize?: boolean;
  listFailures?: boolean;
  clearFailures?: boolean;
  gcKeepOutputs?: string | true;
  gcKeepDerivations?: string | true;
}

/** The action options, in the order their names appear in --help. */
const ACTIONS = [
  ["collectGarbage", "-C"],
  ["freeSpace", "-F"],
  ["delete", "-D"],
  ["listRoots", "--list-roots"],
  ["listBusy", "--list-busy"],
  ["listDead", "--list-dead"],
  ["listLive", "--list-live"],
  ["references", "--references"],
  ["referrers", "--referrers"],
  ["requisites", "-R"],
  ["derivers", "--derivers"],
  ["verify", "--verify"],
  ["optimize", "--optimize"],
  ["listFailures", "--list-failures"],
  ["clearFailures", "--clear-failures"],
] as const;

/** The actions the daemon does for us when one runs (the others use the store directly). */
const DAEMON_ACTIONS = new Set<string>([
  "collectGarbage",
  "freeSpace",
  "delete",
  "listDead",
  "listLive",
  "listRoots",
  "references",
  "referrers",
  "requisites",
  "derivers",
  "verify",
  "optimize",
]);

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiBs`;

function yesNo(value: string | true | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === "yes") return true;
  if (value === "no") return false;
  throw new UsageError(`--${name} takes yes or no, not ${JSON.stringify(value)}`);
}

export function registerGcCommand(program: Command): void {
  program
    .command("gc")
    .description("invoke the garbage collector, or query and maintain the store")
    .argument(
      "[paths...]",
      "store paths (for -D, --references, --referrers, -R, --derivers, --clear-failures)",
    )
    .option(
      "-C, --collect-garbage [min]",
      "collect at least MIN bytes of garbage (all of it without MIN)",
    )
    .option("-F, --free-space <free>", "attempt to reach FREE available space in the store")
    .option(
      "-d, --delete-generations [pattern]",
      "delete profile generations matching PATTERN (a duration) first",
    )
    .option("-D, --delete", "attempt to delete PATHS (refused for live paths)")
    .option("--list-roots", "list the garbage collector roots (link -> store path)")
    .option(
      "--list-busy",
      "list store items in use: locked (being built or added) or rooted by a live client",
    )
    .option("--list-dead", "list dead paths")
    .option("--list-live", "list live paths")
    .option("--references", "list the references of PATHS")
    .option("--referrers", "list the referrers of PATHS")
    .option("-R, --requisites", "list the requisites (closure) of PATHS")
    .option("--derivers", "list the derivers of PATHS")
    .option(
      "--verify [opts]",
      "verify the store; OPTS is a comma-separated combination of 'repair' and 'contents'",
    )
    .option("--optimize", "optimize the store by deduplicating identical files")
    .option("--list-failures", "list cached build failures")
    .option("--clear-failures", "remove PATHS from the set of cached failures")
    .option("--gc-keep-outputs [yes|no]", "keep the outputs of live derivations (default no)")
    .option("--gc-keep-derivations [yes|no]", "keep the derivations of live outputs (default yes)")
    .addHelpText(
      "after",
      "\nSizes take a unit: 500MiB, 5G (powers of 1024: K/KiB, M/MiB, G/GiB, T/TiB), 5GB (powers of 1000).\nExamples:\n  kiln gc                     collect all garbage\n  kiln gc -F 5G               collect until 5 GiB are free\n  kiln gc -d 1m -C            delete generations older than a month, then collect\n  kiln gc -R /gnu/store/…     list a path's closure\n",
    )
    .action(async (paths: string[], options: GcOptions, command: Command) => {
      const chosen = ACTIONS.filter(([key]) => options[key] !== undefined);
      if (chosen.length > 1) {
        throw new UsageError(
          `choose one action, not ${chosen.map(([, flag]) => flag).join(" and ")}`,
        );
      }
      const action = chosen[0]?.[0] ?? "collectGarbage";
      const takesPaths = [
        "delete",
        "references",
        "referrers",
        "requisites",
        "derivers",
        "clearFailures",
      ];
      if (!takesPaths.includes(action) && paths.length > 0) {
        throw new UsageError(`extraneous arguments: ${paths.join(" ")}`);
      }
      const config = configOf(command);
      const keep = {
        keepOutputs: yesNo(options.gcKeepOutputs, "gc-keep-outputs", false),
        keepDerivations: yesNo(options.gcKeepDerivations, "gc-keep-derivations", true),
      };
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const info = (line: string) => process.stderr.write(`${line}\n`);
      const deleteOldGenerations = async () => {
        if (options.deleteGenerations === undefined) return;
        const pattern = options.deleteGenerations === true ? "" : options.deleteGenerations;
        const { parseDuration, findProfiles, deleteGenerations } = await import("@kiln/profiles");
        if (pattern !== "" && parseDuration(pattern) === undefined) {
          throw new UsageError(`"${pattern}" does not denote a duration`, "use e.g. 10d, 2w, 1m");
        }
        const uid = process.getuid?.();
        for (const profile of findProfiles(config, { uid })) {
          try {
            const { deleted } = deleteGenerations(profile, pattern);
            for (const link of deleted) info(`deleting ${link}`);
          } catch (error) {
            // A profile with nothing old enough is fine here, as in Guix.
            if ((error as { code?: string }).code !== "ERR_PROFILE_NO_MATCH") throw error;
          }
        }
      };
      /** Bytes to free: 0 for all garbage; undefined when -F finds enough space already. */
      const minFreedFor = async (): Promise<number | undefined> => {
        const { parseSize } = await import("@kiln/gc/parse-size");
        if (action === "freeSpace") {
          const { statfsSync } = await import("node:fs");
          const target = parseSize(options.freeSpace!);
          const fs = statfsSync(config.realStoreDir);
          const free = fs.bavail * fs.bsize;
          if (free >= target) {
            info(`already ${mib(free)} available on ${config.storeDir}, nothing to do`);
            return undefined;
          }
          info(`freeing ${mib(target - free)}`);
          return target - free;
        }
        return typeof options.collectGarbage === "string" ? parseSize(options.collectGarbage) : 0;
      };
      const verifyWords = () => {
        const words =
          options.verify === undefined || options.verify === true
            ? []
            : options.verify.split(",").filter(Boolean);
        for (const word of words) {
          if (word !== "repair" && word !== "contents") {
            throw new UsageError(
              `${word}: invalid '--verify' option`,
              "use contents, repair or both",
            );
          }
        }
        return words;
      };
      // With a daemon, the daemon collects (it owns the store and knows its clients' roots).
      const { connectDaemon } = await import("../open-daemon.ts");
      const client = DAEMON_ACTIONS.has(action) ? await connectDaemon(config) : undefined;
      if (client) {
        try {
          if (options.gcKeepOutputs !== undefined || options.gcKeepDerivations !== undefined)
            info("warning: the daemon's own --gc-keep-outputs/--gc-keep-derivations apply");
          await deleteOldGenerations();
          const minFreed =
            action === "collectGarbage" || action === "freeSpace" ? await minFreedFor() : 0;
          if (minFreed === undefined) return;
          const verify = action === "verify" ? verifyWords() : [];
          const { gcThroughDaemon } = await import("../gc-through-daemon.ts");
          await gcThroughDaemon(client, {
            action,
            config,
            paths: paths.map((path) => storePathOfArgument(config, path)),
            minFreed,
            verify,
            out,
            info,
          });
        } finally {
          client.close();
        }
        return;
      }
      await withStore(config, async (store) => {
        await deleteOldGenerations();
        const storePaths = async () => paths.map((path) => storePathOfArgument(store.config, path));
        switch (action) {
          case "collectGarbage":
          case "freeSpace": {
            const { collectGarbage } = await import("@kiln/gc");
            const minFreed = await minFreedFor();
            if (minFreed === undefined) return;
            info("finding garbage collector roots...");
            info("deleting garbage...");
            const result = await collectGarbage(store, {
              action: "delete-dead",
              minFreed,
              ...keep,
            });
            info(`freed ${mib(result.bytesFreed)} (${result.paths.length} store paths deleted)`);
            return;
          }
          case "delete": {
            const { collectGarbage } = await import("@kiln/gc");
            const result = await collectGarbage(store, {
              action: "delete-specific",
              paths: await storePaths(),
              onDeleted: (path) => info(`deleting ${path}`),
              ...keep,
            });
            info(`freed ${mib(result.bytesFreed)} (${result.paths.length} store paths deleted)`);
            return;
          }
          case "listDead":
          case "listLive": {
            const { collectGarbage } = await import("@kiln/gc");
            const result = await collectGarbage(store, {
              action: action === "listDead" ? "return-dead" : "return-live",
              ...keep,
            });
            for (const path of result.paths) out(path);
            return;
          }
          case "listRoots": {
            const { findRoots } = await import("@kiln/gc/find-roots");
            for (const root of findRoots(store.config)) {
              if (store.isValidPath(root.target)) out(`${root.link} -> ${root.target}`);
            }
            return;
          }
          case "listBusy": {
            const { listBusyPaths } = await import("@kiln/gc/list-busy-paths");
            for (const path of listBusyPaths(store.config)) out(path);
            return;
          }
          case "references":
          case "referrers":
          case "derivers":
            for (const path of await storePaths()) {
              store.requirePathInfo(path);
              const related =
                action === "references"
                  ? store.db.references(path)
                  : action === "referrers"
                    ? store.db.referrers(path)
                    : store.db.validDerivers(path);
              for (const other of related) out(other);
            }
            return;
          case "requisites":
            for (const path of store.requisites(await storePaths())) out(path);
            return;
          case "verify": {
            const words = verifyWords();
            const { verifyStore } = await import("@kiln/store/verify-store");
            const { KilnError } = await import("@kiln/formats/kiln-error");
            const report = await verifyStore(store, {
              checkContents: words.includes("contents"),
              repair: words.includes("repair"),
            });
            for (const path of report.removed) info(`removed leftover ${path}`);
            for (const path of report.missing) info(`path ${path} disappeared`);
            for (const line of report.corrupted) info(`path ${line}`);
            for (const path of report.repaired) info(`repaired: ${path} is no longer valid`);
            out(
              `checked ${report.checked} paths: ${report.clean ? "store is clean" : "store has problems"}`,
            );
            if (!report.clean) {
              throw new KilnError("ERR_STORE_CORRUPT", "the store is not consistent", {
                hint: "run with --verify=repair",
              });
            }
            return;
          }
          case "optimize": {
            const { optimiseStore } = await import("@kiln/gc/optimise-store");
            const result = await optimiseStore(store);
            info(
              `${result.filesLinked} of ${result.filesScanned} files hard-linked, ${mib(result.bytesSaved)} saved`,
            );
            return;
          }
          case "listFailures":
            for (const path of store.db.failedPaths()) out(path);
            return;
          case "clearFailures":
            store.db.clearFailedPaths(await storePaths());
            return;
        }
      });
    });
}

/**
 * What `--references FILE` and friends accept, as `guix gc` does: a store path, a file
 * inside one, or a symlink (`./result`, a profile) leading into the store.
 */
function storePathOfArgument(
  config: Pick<StoreConfig, "storeDir" | "realStoreDir">,
  argument: string,
): string {
  let path = resolve(argument);
  for (let hops = 0; hops < 40; hops++) {
    for (const dir of [config.storeDir, config.realStoreDir]) {
      if (path.startsWith(`${dir}/`)) {
        return `${config.storeDir}/${path.slice(dir.length + 1).split("/")[0]}`;
      }
    }
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat?.isSymbolicLink()) break;
    const target = readlinkSync(path);
    path = isAbsolute(target) ? target : resolve(dirname(path), target);
  }
  throw new UsageError(`${argument} is not in the store ${config.storeDir}`);
}
