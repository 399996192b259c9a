/**
 * `kiln package`: install and remove packages in a profile, and manage its generations,
 * with `guix package`'s options. What is installed is a package of the current channels
 * (`NAME[@VERSION][:OUTPUT]`, see current-channels.ts), a store path, or
 * `DRV.drv[:OUTPUT]`; `-u` upgrades installed packages to the channels' versions. Queries
 * (`-l`, `-I`, `--search-paths`) run instead of actions when given, as in Guix; actions
 * run in the order roll-back, switch, delete generations, then one transaction. When a
 * daemon runs, store writes and builds go through it (see profile-through-daemon.ts);
 * queries read the profile's links and manifests, never the database.
 */
import { readFileSync, readlinkSync } from "node:fs";
import type { LoweringStore } from "@kiln/packages/lowering-context";
import type { GenerationMaker } from "@kiln/profiles/build-generation";
import type { ManifestEntry } from "@kiln/profiles/profile-manifest";
import type { Command } from "commander";
import { applyGenerationActions } from "../apply-generation-actions.ts";
import { formatGenerationDate as formatDate } from "../channel-generation-text.ts";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { packageInstallSpecs, packageUpgradeSpecs, type WantedItem } from "../package-names.ts";
import { UsageError } from "../usage-error.ts";
import { whoAmI } from "../who-am-i.ts";

interface PackageOptions {
  install?: string[];
  upgrade?: string | true;
  remove?: string[];
  manifest?: string;
  rollBack?: boolean;
  switchGeneration?: string;
  listGenerations?: string | true;
  deleteGenerations?: string | true;
  profile?: string;
  listInstalled?: string | true;
  searchPaths?: string | true;
}

/** What a transaction needs of the store: the local one (its owner), or the daemon's. */
interface ProfileStoreAccess {
  readonly maker: GenerationMaker;
  /** Where channel packages are lowered to (their `.drv`s written). */
  readonly lowering: LoweringStore;
  /** Roots a path until the command ends. */
  readonly addRoot: (path: string) => Promise<void>;
  /** Manifest entries for `-i` specs (store paths, `DRV.drv[:OUTPUT]`), built if needed. */
  readonly resolveSpecs: (specs: readonly string[]) => Promise<ManifestEntry[]>;
}

const optional = (value: string | true | undefined) => (value === true ? "" : (value ?? ""));

export function registerPackageCommand(program: Command): void {
  program
    .command("package")
    .description("install, remove and roll back packages in a profile, in transactions")
    .option(
      "-i, --install <items...>",
      "install packages of the current channels (NAME[@VERSION][:OUTPUT]), store paths, or the outputs of DRV.drv[:OUTPUT]",
    )
    .option(
      "-u, --upgrade [regexp]",
      "upgrade installed packages whose name matches REGEXP (all without) to the current channels' versions",
    )
    .option("-r, --remove <names...>", "remove packages, as NAME[@VERSION][:OUTPUT]")
    .option(
      "-m, --manifest <file>",
      "make a new generation holding exactly the items listed in FILE",
    )
    .option("--roll-back", "roll back to the previous generation")
    .option("-S, --switch-generation <pattern>", "switch to a generation: N, +N or -N")
    .option("-l, --list-generations [pattern]", "list generations matching PATTERN")
    .option(
      "-d, --delete-generations [pattern]",
      "delete generations matching PATTERN (all but the current one without)",
    )
    .option("-p, --profile <profile>", "use PROFILE instead of the user's default profile")
    .option("-I, --list-installed [regexp]", "list installed packages matching REGEXP")
    .option(
      "--search-paths [kind]",
      "display needed environment variable definitions (exact, prefix or suffix)",
    )
    .addHelpText(
      "after",
      `
PATTERN: N, N,M,…, N..M, N.., ..N, or a duration: 30s, 12h, 10d, 2w, 1m (30 days).
The -m FILE lists one item per line (# comments), or is a JSON array of them.
Examples:
  kiln package -i hello csv-tools hello:doc       install from the current channels
  kiln pull && kiln package -u                    upgrade to the channels' versions
  kiln package -i /gnu/store/…-hello-2.12          install a store item
  kiln package -r hello                             remove it
  kiln package --roll-back
  kiln package -l 1m                                generations of the past month
  eval "$(kiln package --search-paths=prefix)"
`,
    )
    .action(async (options: PackageOptions, command: Command) => {
      const config = configOf(command);
      const who = whoAmI(command);
      const profiles = await import("@kiln/profiles");
      const locations = profiles.profileLocations(config, who);
      const profile = options.profile
        ? profiles.canonicalProfile(options.profile, locations.userProfilesDir)
        : locations.defaultProfile;
      const kind = optional(options.searchPaths) || "exact";
      if (kind !== "exact" && kind !== "prefix" && kind !== "suffix") {
        throw new UsageError(
          `${kind}: unsupported kind of search path`,
          "use exact, prefix or suffix",
        );
      }
      if (
        options.manifest !== undefined &&
        (options.install || options.remove || options.upgrade !== undefined)
      ) {
        throw new UsageError(
          "-m replaces the whole profile: it does not combine with -i, -r or -u",
        );
      }
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const info = (line: string) => process.stderr.write(`${line}\n`);
      /** How the profile is shown to the user: `~/.kiln-profile` when that is what it is. */
      const shown = () => {
        try {
          return readlinkSync(locations.homeLink) === profile ? locations.homeLink : profile;
        } catch {
          return profile;
        }
      };

      const queries =
        options.listGenerations !== undefined ||
        options.listInstalled !== undefined ||
        options.searchPaths !== undefined;
      if (queries) {
        // The profile's links and the manifest files in the store: no database, no daemon.
        const store = { config };
        if (options.listGenerations !== undefined) {
          for (const generation of profiles.listGenerations(
            store,
            profile,
            optional(options.listGenerations),
          )) {
            out(
              `Generation ${generation.number}\t${formatDate(generation.time)}${generation.current ? "\t(current)" : ""}`,
            );
            for (const e of generation.manifest.entries)
              out(`  ${e.name}\t${e.version}\t${e.output}\t${e.item}`);
            out("");
          }
        }
        if (options.listInstalled !== undefined) {
          let pattern: RegExp;
          try {
            pattern = new RegExp(optional(options.listInstalled));
          } catch {
            throw new UsageError(
              `'${optional(options.listInstalled)}' is not a valid regular expression`,
            );
          }
          for (const e of profiles.readProfileManifest(store, profile).entries) {
            if (pattern.test(e.name)) out(`${e.name}\t${e.version}\t${e.output}\t${e.item}`);
          }
        }
        if (options.searchPaths !== undefined) {
          const manifest = profiles.readProfileManifest(store, profile);
          const exists = (relative: string) =>
            profiles.resolveInStore(config, `${profile}/${relative}`)?.stat.isDirectory() ?? false;
          for (const setting of profiles.evaluateSearchPaths(manifest, shown(), exists)) {
            out(profiles.formatSearchPath(setting, kind));
          }
        }
        return;
      }

      if (profile === locations.defaultProfile) profiles.ensureDefaultProfile(locations);
      /** The actions, in the store at hand: a local one, or the daemon's. */
      const transact = (store: ProfileStoreAccess) =>
        profiles.withProfileLock(profile, async () => {
          await applyGenerationActions(store.maker, options, { profile, out, info });
          if (
            options.install ||
            options.remove ||
            options.upgrade !== undefined ||
            options.manifest !== undefined
          ) {
            /** Manifest entries; a package of a channel keeps its own name and version. */
            const resolve = async (wanted: readonly WantedItem[]) => {
              const entries = await store.resolveSpecs(wanted.map((w) => w.spec));
              // Items with a package come first and give one entry each, so indexes match.
              return entries.map((entry, index) => ({ ...entry, ...wanted[index]?.package }));
            };
            let manifest: import("@kiln/profiles").ProfileManifest;
            if (options.manifest !== undefined) {
              const specs = profiles.parsePackageList(readFileSync(options.manifest, "utf8"));
              manifest = {
                entries: await resolve(await packageInstallSpecs(command, store.lowering, specs)),
              };
            } else {
              const installed = profiles.readProfileManifest({ config }, profile);
              const wanted = [
                ...(options.upgrade === undefined
                  ? []
                  : await packageUpgradeSpecs(command, store.lowering, installed.entries, {
                      pattern: optional(options.upgrade),
                      addRoot: store.addRoot,
                    })),
                ...(await packageInstallSpecs(command, store.lowering, options.install ?? [])),
              ];
              manifest = profiles.applyPackageTransaction(installed, {
                install: await resolve(wanted),
                remove: (options.remove ?? []).map(profiles.parseRemovalPattern),
              });
            }
            const result = await profiles.makeGeneration(store.maker, profile, manifest);
            if (result.unchanged) {
              info("nothing to be done");
              return;
            }
            const count = manifest.entries.length;
            out(`${count} package${count === 1 ? "" : "s"} in profile`);
            if (manifest.entries.some((e) => e.searchPaths.length > 0)) {
              info(
                `hint: set the environment variables the profile needs with: eval "$(kiln package -p ${shown()} --search-paths=prefix)"`,
              );
            }
          }
        });

      const { connectDaemon } = await import("../open-daemon.ts");
      const client = await connectDaemon(config);
      if (client) {
        // As `guix package` with guix-daemon: lowering here, building there.
        const through = await import("../profile-through-daemon.ts");
        const { daemonStoreWriter } = await import("../daemon-store-writer.ts");
        const addRoot = (path: string) => client.addTempRoot(path);
        try {
          await transact({
            maker: through.daemonGenerationMaker(client, config, process.stderr),
            lowering: daemonStoreWriter(client, config.storeDir),
            addRoot,
            resolveSpecs: (specs) =>
              profiles.resolvePackageSpecsIn(through.daemonSpecStore(client, config), specs, {
                addRoots: async (paths) => {
                  for (const path of paths) await addRoot(path);
                },
                realise: (drvPaths) => through.buildInDaemon(client, drvPaths, process.stderr),
              }),
          });
        } finally {
          client.close();
        }
        return;
      }
      await withStore(config, async (store) => {
        const { TempRoots } = await import("@kiln/gc/temp-roots");
        const tempRoots = TempRoots.open(store.config);
        const realise = async (drvPaths: readonly string[]) => {
          const { buildDerivations } = await import("@kiln/builder/build-derivations");
          for (const result of await buildDerivations(store, drvPaths)) {
            if (result.error) throw result.error;
          }
        };
        try {
          await transact({
            maker: profiles.localGenerationMaker(store, { tempRoots }),
            lowering: store,
            addRoot: (path) => tempRoots.add(path),
            resolveSpecs: (specs) =>
              profiles.resolvePackageSpecs(store, specs, { tempRoots, realise }),
          });
        } finally {
          tempRoots.close();
        }
      });
    });
}
