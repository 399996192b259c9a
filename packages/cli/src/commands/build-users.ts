/** `kiln build-users`: the pool of build users that root builds run as (seed 003). */
import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { UsageError } from "../usage-error.ts";

interface BuildUsersOptions {
  group: string;
  count: string;
  prefix: string;
  apply?: boolean;
}

export function registerBuildUsersCommand(program: Command): void {
  program
    .command("build-users")
    .description("print (or, with --apply, run) the commands that create the build user pool")
    .option(
      "--group <name>",
      "the build users group (the daemon's --build-users-group)",
      "kilnbuild",
    )
    .option("--count <n>", "how many users: the most builds that can run at once", "10")
    .option("--prefix <name>", "user names are PREFIX1..PREFIXN", "kilnbuilder")
    .option("--apply", "run the commands (as root) instead of printing them")
    .addHelpText(
      "after",
      "\nThe users get no shell and no home, as guix-daemon's guixbuilder users:\n  kiln build-users | sh        # or: kiln build-users --apply\n",
    )
    .action(async (options: BuildUsersOptions) => {
      const { createBuildUsersCommand } = await import("@kiln/builder/build-users");
      const count = Number(options.count);
      if (!Number.isInteger(count))
        throw new UsageError(
          `--count must be a whole number, got ${JSON.stringify(options.count)}`,
        );
      const script = createBuildUsersCommand({
        group: options.group,
        count,
        prefix: options.prefix,
      });
      if (!options.apply) {
        process.stdout.write(script);
        return;
      }
      const result = spawnSync("sh", ["-e", "-c", script], { stdio: "inherit" });
      if (result.status !== 0) {
        const { KilnError } = await import("@kiln/formats/kiln-error");
        throw new KilnError(
          "ERR_BUILD_USERS",
          `creating the build users failed (exit ${result.status})`,
          {
            hint: "run as root; an existing group or user of the same name also makes it fail",
          },
        );
      }
    });
}
