/**
 * `kiln show PACKAGE…`, `kiln search REGEXP…` and `kiln lint [PACKAGE…]` over a channel's
 * packages, as `guix show`, `guix search` and `guix lint`.
 */
import { fileURLToPath } from "node:url";
import type { Command } from "commander";

/** Until `kiln pull` gives a current channel: the sample channel of this repository. */
export const DEFAULT_CHANNEL_DIR = fileURLToPath(
  new URL("../../../../channels/sample", import.meta.url),
);

const CHANNEL_HELP = `directory of the channel (channel.json and modules); default ${DEFAULT_CHANNEL_DIR}`;

export function registerPackageCommands(program: Command): void {
  program
    .command("show")
    .description("print the details of packages as recutils records")
    .argument("<package...>", "NAME or NAME@VERSION")
    .option("--channel <dir>", CHANNEL_HELP, DEFAULT_CHANNEL_DIR)
    .addHelpText(
      "after",
      '\nEach record has the fields name, version, outputs, systems, dependencies, location,\nhomepage, license, synopsis and description; continuation lines start with "+ ".\n\nExample:\n  kiln show hello@2.10\n',
    )
    .action(async (specs: string[], options: { channel: string }) => {
      const { findPackage, loadChannel, packageRecord } = await import("@kiln/packages");
      const channel = await loadChannel(options.channel);
      const records = specs.map((spec) => {
        const pkg = findPackage(channel.packages, spec);
        return packageRecord(pkg, { location: channel.locations.get(pkg) });
      });
      process.stdout.write(records.join("\n"));
    });
  program
    .command("search")
    .description(
      "list the packages whose name, synopsis or description match every REGEXP, most relevant first",
    )
    .argument("<regexp...>", "case-insensitive regular expressions")
    .option("--channel <dir>", CHANNEL_HELP, DEFAULT_CHANNEL_DIR)
    .addHelpText(
      "after",
      "\nMatches weigh 4 in the name, 3 in the synopsis and 2 in the description; each record\nends with its relevance. Exit status 3 when nothing matches.\n\nExample:\n  kiln search csv column\n",
    )
    .action(async (patterns: string[], options: { channel: string }) => {
      const { KilnError } = await import("@kiln/formats/kiln-error");
      const { loadChannel, packageRecord, searchPackages } = await import("@kiln/packages");
      const channel = await loadChannel(options.channel);
      const results = searchPackages(channel.packages, patterns);
      if (results.length === 0)
        throw new KilnError("ERR_NOT_FOUND", `no package matches ${patterns.join(" ")}`);
      const records = results.map(
        ({ package: pkg, relevance }) =>
          `${packageRecord(pkg, { location: channel.locations.get(pkg) })}relevance: ${relevance}\n`,
      );
      process.stdout.write(records.join("\n"));
    });
  program
    .command("lint")
    .description("check packages for common mistakes (all the channel's packages by default)")
    .argument("[package...]", "NAME or NAME@VERSION")
    .option("-c, --checkers <names>", "only run these checkers (comma-separated)")
    .option("-l, --list-checkers", "list the checkers and exit")
    .option(
      "--json",
      "print the warnings as a JSON array of {checker, package, version, location, message}",
    )
    .option("--channel <dir>", CHANNEL_HELP, DEFAULT_CHANNEL_DIR)
    .addHelpText(
      "after",
      "\nOne warning a line: LOCATION: NAME@VERSION: MESSAGE [CHECKER]. Warnings do not change\nthe exit status (0), as with guix lint.\n\nExamples:\n  kiln lint hello\n  kiln lint -c synopsis,description --json\n",
    )
    .action(
      async (
        specs: string[],
        options: { checkers?: string; listCheckers?: boolean; json?: boolean; channel: string },
      ) => {
        const { findPackage, lintCheckers, lintPackages, loadChannel } = await import(
          "@kiln/packages"
        );
        if (options.listCheckers) {
          for (const checker of lintCheckers)
            process.stdout.write(`${checker.name}: ${checker.description}\n`);
          return;
        }
        const channel = await loadChannel(options.channel);
        const packages =
          specs.length > 0
            ? specs.map((spec) => findPackage(channel.packages, spec))
            : channel.packages;
        const warnings = await lintPackages(packages, {
          checkers: options.checkers?.split(",").filter(Boolean),
          all: channel.packages,
          locations: channel.locations,
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(warnings, null, 2)}\n`);
          return;
        }
        for (const warning of warnings) {
          process.stdout.write(
            `${warning.location ?? "unknown"}: ${warning.package}@${warning.version}: ${warning.message} [${warning.checker}]\n`,
          );
        }
      },
    );
}
