/**
 * `kiln package`: install and remove store items (or derivations' outputs) in a profile,
 * and manage its generations, with `guix package`'s options. Package names come with the
 * packages issue; until then items are store paths or `DRV.drv[:OUTPUT]`. Queries
 * (`-l`, `-I`, `--search-paths`) run instead of actions when given, as in Guix; actions
 * run in the order roll-back, switch, delete generations, then one transaction.
 */
import { readFileSync, readlinkSync } from "node:fs";
import { userInfo } from "node:os";
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { UsageError } from "../usage-error.ts";

interface PackageOptions {
  install?: string[];
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

/** The user and home directory, from the environment as Guix reads them, else the password file. */
function whoAmI(command: Command): { user: string; home: string } {
  let root = command;
  while (root.parent) root = root.parent;
  const env = (root as Command & { kilnEnv?: Record<string, string | undefined> }).kilnEnv ?? {};
  const info = userInfo();
  return { user: env.USER ?? env.LOGNAME ?? info.username, home: env.HOME ?? info.homedir };
}

const optional = (value: string | true | undefined) => (value === true ? "" : (value ?? ""));

export function registerPackageCommand(program: Command): void {
  program
    .command("package")
    .description("install, remove and roll back packages in a profile, in transactions")
    .option("-i, --install <items...>", "install store paths, or the outputs of DRV.drv[:OUTPUT]")
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
      if (options.manifest !== undefined && (options.install || options.remove)) {
        throw new UsageError("-m replaces the whole profile: it does not combine with -i or -r");
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

      await withStore(config, async (store) => {
        const queries =
          options.listGenerations !== undefined ||
          options.listInstalled !== undefined ||
          options.searchPaths !== undefined;
        if (queries) {
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
              profiles.resolveInStore(store.config, `${profile}/${relative}`)?.stat.isDirectory() ??
              false;
            for (const setting of profiles.evaluateSearchPaths(manifest, shown(), exists)) {
              out(profiles.formatSearchPath(setting, kind));
            }
          }
          return;
        }

        if (profile === locations.defaultProfile) profiles.ensureDefaultProfile(locations);
        const { TempRoots } = await import("@kiln/gc/temp-roots");
        const tempRoots = TempRoots.open(store.config);
        try {
          await profiles.withProfileLock(profile, async () => {
            const change = ({ from, to }: { from: number; to: number }) =>
              from === 0 && to === 0
                ? info("nothing to do: already at the empty profile")
                : out(`switched from generation ${from} to ${to}`);
            if (options.rollBack) change(await profiles.rollBack(store, profile, { tempRoots }));
            if (options.switchGeneration !== undefined) {
              change(profiles.switchGeneration(profile, options.switchGeneration));
            }
            if (options.deleteGenerations !== undefined) {
              const result = profiles.deleteGenerations(
                profile,
                optional(options.deleteGenerations),
                {
                  onWarning: (warning) => info(`warning: ${warning}`),
                },
              );
              for (const link of result.deleted) out(`deleting ${link}`);
            }
            if (options.install || options.remove || options.manifest !== undefined) {
              const realise = async (drvPaths: readonly string[]) => {
                const { buildDerivations } = await import("@kiln/builder/build-derivations");
                for (const result of await buildDerivations(store, drvPaths)) {
                  if (result.error) throw result.error;
                }
              };
              let manifest: import("@kiln/profiles").ProfileManifest;
              if (options.manifest !== undefined) {
                const specs = profiles.parsePackageList(readFileSync(options.manifest, "utf8"));
                manifest = {
                  entries: await profiles.resolvePackageSpecs(store, specs, { tempRoots, realise }),
                };
              } else {
                manifest = profiles.applyPackageTransaction(
                  profiles.readProfileManifest(store, profile),
                  {
                    install: await profiles.resolvePackageSpecs(store, options.install ?? [], {
                      tempRoots,
                      realise,
                    }),
                    remove: (options.remove ?? []).map(profiles.parseRemovalPattern),
                  },
                );
              }
              const result = await profiles.buildGeneration(store, profile, manifest, {
                tempRoots,
              });
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
        } finally {
          tempRoots.close();
        }
      });
    });
}

/** `Nov 21 2026 07:49:00`, as Guix shows generation dates (local time). */
function formatDate(date: Date): string {
  const month = date.toLocaleString("en-US", { month: "short" });
  const two = (n: number) => String(n).padStart(2, "0");
  return `${month} ${two(date.getDate())} ${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}
