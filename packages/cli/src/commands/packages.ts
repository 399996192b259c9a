/**
 * `kiln show PACKAGE…`, `kiln search REGEXP…` and `kiln lint [PACKAGE…]` over the current
 * channels' packages (current-channels.ts says which), as `guix show`, `guix search` and
 * `guix lint`. The channels' code runs in the evaluation sandbox (evaluateChannels), not
 * in this process: a module that fails is reported and the others are still used.
 */
import type { Command } from "commander";
import { DEFAULT_CHANNEL_DIR } from "../channel-locations.ts";
import { UsageError } from "../usage-error.ts";

/** `--channel DIR`, repeatable; `kiln time-machine` passes its channels this way. */
export const CHANNEL_HELP = `read packages from this channel directory (channel.json and modules) instead of the current channels (those of kiln pull, else ${DEFAULT_CHANNEL_DIR}); repeatable`;

export const collectChannel = (value: string, previous: string[]) => [...previous, value];

const TIMEOUT_HELP = "seconds one channel module may take to evaluate";

interface EvaluationFlags {
  readonly channel: string[];
  readonly evaluationTimeout: string;
}

/**
 * The packages of the channels the command reads, evaluated in the sandbox (with these
 * lint checkers run there). Each module that failed is printed as `error: MODULE: message`.
 */
async function evaluatedPackages(command: Command, flags: EvaluationFlags, lint?: string[]) {
  const seconds = Number(flags.evaluationTimeout);
  if (!(seconds > 0))
    throw new UsageError(
      `--evaluation-timeout takes a number of seconds > 0, got ${JSON.stringify(flags.evaluationTimeout)}`,
    );
  const { currentChannelDirs } = await import("../current-channels.ts");
  const { evaluateChannels } = await import("@kiln/packages/evaluate-channels");
  const collection = await evaluateChannels(await currentChannelDirs(command, flags.channel), {
    moduleTimeoutMs: Math.round(seconds * 1000),
    lint,
  });
  for (const error of collection.errors)
    process.stderr.write(`error: ${error.module}: ${error.message}\n`);
  return collection;
}

export function registerPackageCommands(program: Command): void {
  program
    .command("show")
    .description("print the details of packages as recutils records")
    .argument("<package...>", "NAME or NAME@VERSION")
    .option("--channel <dir>", CHANNEL_HELP, collectChannel, [])
    .option("--evaluation-timeout <s>", TIMEOUT_HELP, "10")
    .addHelpText(
      "after",
      '\nEach record has the fields name, version, outputs, systems, dependencies, location,\nhomepage, license, synopsis and description; continuation lines start with "+ ".\n\nExample:\n  kiln show hello@2.10\n',
    )
    .action(async (specs: string[], options: EvaluationFlags, command: Command) => {
      const { findPackage, packageRecord } = await import("@kiln/packages");
      const { packages } = await evaluatedPackages(command, options);
      const records = specs.map((spec) => packageRecord(findPackage(packages, spec)));
      process.stdout.write(records.join("\n"));
    });
  program
    .command("search")
    .description(
      "list the packages whose name, synopsis or description match every REGEXP, most relevant first",
    )
    .argument("<regexp...>", "case-insensitive regular expressions")
    .option("--channel <dir>", CHANNEL_HELP, collectChannel, [])
    .option("--evaluation-timeout <s>", TIMEOUT_HELP, "10")
    .addHelpText(
      "after",
      "\nMatches weigh 4 in the name, 3 in the synopsis and 2 in the description; each record\nends with its relevance. Exit status 3 when nothing matches.\n\nExample:\n  kiln search csv column\n",
    )
    .action(async (patterns: string[], options: EvaluationFlags, command: Command) => {
      const { KilnError } = await import("@kiln/formats/kiln-error");
      const { packageRecord, searchPackages } = await import("@kiln/packages");
      const { packages } = await evaluatedPackages(command, options);
      const results = searchPackages(packages, patterns);
      if (results.length === 0)
        throw new KilnError("ERR_NOT_FOUND", `no package matches ${patterns.join(" ")}`);
      const records = results.map(
        ({ package: pkg, relevance }) => `${packageRecord(pkg)}relevance: ${relevance}\n`,
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
    .option("--channel <dir>", CHANNEL_HELP, collectChannel, [])
    .option("--evaluation-timeout <s>", TIMEOUT_HELP, "10")
    .addHelpText(
      "after",
      "\nOne warning a line: LOCATION: NAME@VERSION: MESSAGE [CHECKER]. Warnings do not change\nthe exit status (0), as with guix lint; a module that fails to evaluate is reported as\n`error: MODULE: MESSAGE`, the other modules are still checked, and the exit status is 1.\n\nExamples:\n  kiln lint hello\n  kiln lint -c synopsis,description --json\n",
    )
    .action(
      async (
        specs: string[],
        options: EvaluationFlags & { checkers?: string; listCheckers?: boolean; json?: boolean },
        command: Command,
      ) => {
        const { findPackage, lintCheckerNames, lintCheckers, lintEvaluated, sandboxCheckers } =
          await import("@kiln/packages");
        if (options.listCheckers) {
          for (const checker of lintCheckers)
            process.stdout.write(`${checker.name}: ${checker.description}\n`);
          return;
        }
        const checkers = lintCheckerNames(options.checkers?.split(",").filter(Boolean));
        const { packages: all, errors } = await evaluatedPackages(
          command,
          options,
          sandboxCheckers(checkers),
        );
        const packages = specs.length > 0 ? specs.map((spec) => findPackage(all, spec)) : all;
        const warnings = lintEvaluated(packages, { all, checkers });
        const failed = async () => {
          if (errors.length === 0) return;
          const { PackageError } = await import("@kiln/packages/package-error");
          throw new PackageError(
            `${errors.length} module${errors.length === 1 ? "" : "s"} failed to evaluate`,
          );
        };
        if (options.json) {
          process.stdout.write(`${JSON.stringify(warnings, null, 2)}\n`);
          return failed();
        }
        for (const warning of warnings) {
          process.stdout.write(
            `${warning.location ?? "unknown"}: ${warning.package}@${warning.version}: ${warning.message} [${warning.checker}]\n`,
          );
        }
        return failed();
      },
    );
}
