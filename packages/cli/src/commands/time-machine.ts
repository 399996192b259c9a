/**
 * `kiln time-machine [--commit C] … -- COMMAND ARG…`: run a package command against the
 * channels at other commits, as `guix time-machine`. The channels are fetched and added
 * to the store as `kiln pull` does, held by temporary roots while the command runs, and
 * passed to it as `--channel` directories; the user's current generation is not touched.
 */
import type { Command } from "commander";
import { channelLocations } from "../channel-locations.ts";
import { readChannelSpecs, readPulledChannels, realChannelDir } from "../current-channels.ts";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { UsageError } from "../usage-error.ts";
import { whoAmI } from "../who-am-i.ts";

/** The commands that read packages from channels (and take `--channel`). */
const COMMANDS = ["build", "show", "search", "lint"];

interface TimeMachineOptions {
  channels?: string;
  url?: string;
  commit?: string;
  branch?: string;
}

export function registerTimeMachineCommand(program: Command): void {
  program
    .command("time-machine")
    .description("run a package command with the channels at other commits")
    .argument("<command...>", `after --: ${COMMANDS.join(", ")}, and its arguments`)
    .option("-C, --channels <file>", "read the channels from FILE (as kiln pull)")
    .option("--url <url>", "fetch the first channel from this repository")
    .option("--commit <commit>", "use this commit of the first channel")
    .option("--branch <branch>", "use the tip of this branch of the first channel")
    // `time-machine -- build -d hello` needs no `--` before `-d` either: options this
    // command does not know are the inner command's.
    .allowUnknownOption()
    .addHelpText(
      "after",
      `
Examples:
  kiln time-machine --commit 0123abc -- build hello
  kiln time-machine -C old-channels.json -- show hello
  kiln describe -f channels > now.json; … later: kiln time-machine -C now.json -- build hello
`,
    )
    .action(async (argv: string[], options: TimeMachineOptions, command: Command) => {
      const [verb, ...rest] = argv as [string, ...string[]];
      if (!COMMANDS.includes(verb))
        throw new UsageError(
          `time-machine cannot run ${JSON.stringify(verb)}`,
          `run one of ${COMMANDS.join(", ")} after --`,
        );
      const config = configOf(command);
      const who = whoAmI(command);
      const locations = channelLocations(config, who);
      const specs = await readChannelSpecs(command, options);
      const { TempRoots } = await import("@kiln/gc/temp-roots");
      const { pullChannels } = await import("@kiln/packages/pull-channels");
      let tempRoots: import("@kiln/gc/temp-roots").TempRoots | undefined;
      try {
        const instances = await withStore(config, async (store) => {
          tempRoots = TempRoots.open(store.config, { tag: "timemachine" });
          const roots = tempRoots;
          return pullChannels(store, specs, {
            checkoutsDir: locations.checkoutsDir,
            env: who.env,
            previous: await readPulledChannels(config, locations.profile),
            addRoot: (path) => roots.add(path),
            onProgress: (line) => process.stderr.write(`${line}\n`),
          });
        });
        const { createProgram } = await import("../program.ts");
        const inner = await createProgram(who.env);
        await inner.parseAsync(
          [
            "--store-dir",
            config.storeDir,
            "--real-store-dir",
            config.realStoreDir,
            "--state-dir",
            config.stateDir,
            verb,
            ...instances.flatMap((instance) => ["--channel", realChannelDir(config, instance)]),
            ...rest,
          ],
          { from: "user" },
        );
      } finally {
        tempRoots?.close();
      }
    });
}
