/**
 * `kiln describe`: the channels and commits in use, as `guix describe` — the current
 * generation of `current-kiln` (or of `-p PROFILE`) and, for each channel, its name,
 * repository, branch and commit.
 */
import type { Command } from "commander";
import { channelGenerationText } from "../channel-generation-text.ts";
import { channelLocations, DEFAULT_CHANNEL_DIR } from "../channel-locations.ts";
import { readPulledChannels } from "../current-channels.ts";
import { configOf } from "../global-config.ts";
import { UsageError } from "../usage-error.ts";
import { whoAmI } from "../who-am-i.ts";

const FORMATS = ["text", "json", "channels"];

export function registerDescribeCommand(program: Command): void {
  program
    .command("describe")
    .description("print the channels and commits of the current package collection")
    .option("-f, --format <format>", `output format: ${FORMATS.join(", ")}`, "text")
    .option("-p, --profile <profile>", "describe PROFILE instead of ~/.config/kiln/current")
    .addHelpText(
      "after",
      `
Formats:
  text      the generation, its date, and each channel's URL, branch and commit
  json      {"generation", "date", "profile", "channels": [{name, url, branch, commit, item}]}
  channels  a channels file pinning every channel's commit (for kiln pull -C or
            kiln time-machine -C: the same package collection elsewhere or later)
`,
    )
    .action(async (options: { format: string; profile?: string }, command: Command) => {
      if (!FORMATS.includes(options.format))
        throw new UsageError(
          `unknown format ${JSON.stringify(options.format)}`,
          `use ${FORMATS.join(", ")}`,
        );
      const config = configOf(command);
      const who = whoAmI(command);
      const profiles = await import("@kiln/profiles");
      const { KilnError } = await import("@kiln/formats/kiln-error");
      const profile = options.profile
        ? profiles.canonicalProfile(
            options.profile,
            profiles.profileLocations(config, who).userProfilesDir,
          )
        : channelLocations(config, who).profile;
      const number = profiles.currentGeneration(profile);
      const channels = number === 0 ? [] : await readPulledChannels(config, profile);
      if (channels.length === 0)
        throw new KilnError("ERR_NOT_FOUND", `no channels pulled in ${profile}`, {
          hint: `run kiln pull; until then package names come from ${DEFAULT_CHANNEL_DIR}`,
        });
      const time = profiles.generationTime(profile, number);
      if (options.format === "json") {
        const json = {
          generation: number,
          date: time.toISOString(),
          profile,
          channels: channels.map(({ name, url, branch, commit, item }) => ({
            name,
            url,
            branch,
            commit,
            item,
          })),
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else if (options.format === "channels") {
        const pinned = channels.map(({ name, url, branch, commit }) => ({
          name,
          url,
          branch,
          commit,
        }));
        process.stdout.write(`${JSON.stringify(pinned, null, 2)}\n`);
      } else {
        process.stdout.write(channelGenerationText({ number, time, current: true }, channels));
      }
    });
}
