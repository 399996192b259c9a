/**
 * `kiln pull`: fetch the configured channels and make them the user's current package
 * collection, a new generation of the profile `current-kiln` (as `guix pull`); and the
 * generation options of that profile (`--roll-back`, `-l`, `-d`, `-S`). The manifest of
 * a generation has one entry per channel: name, commit as version, the channel's item.
 * When a daemon runs, the channel's tree goes in with AddToStore and the daemon builds
 * the profile (see profile-through-daemon.ts); `-l` reads links and manifests only.
 */
import { lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { GenerationMaker } from "@kiln/profiles/build-generation";
import type { Command } from "commander";
import { applyGenerationActions } from "../apply-generation-actions.ts";
import { channelGenerationText } from "../channel-generation-text.ts";
import { channelLocations } from "../channel-locations.ts";
import { readChannelSpecs, readPulledChannels } from "../current-channels.ts";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { whoAmI } from "../who-am-i.ts";

interface PullOptions {
  channels?: string;
  url?: string;
  commit?: string;
  branch?: string;
  rollBack?: boolean;
  switchGeneration?: string;
  listGenerations?: string | true;
  deleteGenerations?: string | true;
  profile?: string;
}

const optional = (value: string | true | undefined) => (value === true ? "" : (value ?? ""));

export function registerPullCommand(program: Command): void {
  program
    .command("pull")
    .description("fetch the channels and make them the current package collection")
    .option(
      "-C, --channels <file>",
      "read the channels from FILE (default ~/.config/kiln/channels.json, then CONFIG-DIR/channels.json)",
    )
    .option("--url <url>", "fetch the first channel from this repository")
    .option("--commit <commit>", "use this commit of the first channel")
    .option("--branch <branch>", "use the tip of this branch of the first channel")
    .option("--roll-back", "roll back to the previous generation of channels")
    .option("-S, --switch-generation <pattern>", "switch to a generation: N, +N or -N")
    .option("-l, --list-generations [pattern]", "list generations matching PATTERN")
    .option(
      "-d, --delete-generations [pattern]",
      "delete generations matching PATTERN (all but the current one without)",
    )
    .option("-p, --profile <profile>", "use PROFILE instead of ~/.config/kiln/current")
    .addHelpText(
      "after",
      `
The channels file is a JSON array of {"name", "url", "branch" (default "main"),
"commit" (optional: pins the channel)}. Without one, the channel is "sample": the
repository Kiln runs from, whose .kiln-channel.json points at channels/sample.
Each pull fetches every channel into ~/.cache/kiln/checkouts, adds the wanted commit's
tree to the store and makes a new generation of the profile
STATE/kiln/profiles/per-user/USER/current-kiln (linked from ~/.config/kiln/current);
a pull that changes nothing makes no generation. kiln build, show, search, lint and
package -i then take package names from these channels.

Examples:
  kiln pull
  kiln pull --commit 0123abc           pin the first channel
  kiln pull -l                         the generations and their commits
  kiln pull --roll-back
`,
    )
    .action(async (options: PullOptions, command: Command) => {
      const config = configOf(command);
      const who = whoAmI(command);
      const profiles = await import("@kiln/profiles");
      const locations = channelLocations(config, who);
      const profile = options.profile
        ? profiles.canonicalProfile(
            options.profile,
            profiles.profileLocations(config, who).userProfilesDir,
          )
        : locations.profile;
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const info = (line: string) => process.stderr.write(`${line}\n`);

      if (options.listGenerations !== undefined) {
        // The profile's links and manifests: no database, no daemon.
        for (const generation of profiles.listGenerations(
          { config },
          profile,
          optional(options.listGenerations),
        )) {
          const link = profiles.generationFile(profile, generation.number);
          out(channelGenerationText(generation, await readPulledChannels(config, link)));
        }
        return;
      }

      const generationActions =
        options.rollBack ||
        options.switchGeneration !== undefined ||
        options.deleteGenerations !== undefined;
      /** The pull, or the generation actions, in a local store or the daemon's. */
      const run = async (store: {
        maker: GenerationMaker;
        channelStore: Parameters<typeof import("@kiln/packages/pull-channels").pullChannels>[0];
        addRoot: (path: string) => Promise<void>;
        /** Called with the previous items before the pull (the daemon's validity is async). */
        prepare?: (items: readonly string[]) => Promise<void>;
      }) => {
        if (generationActions) {
          await profiles.withProfileLock(profile, () =>
            applyGenerationActions(store.maker, options, { profile, out, info }),
          );
          return;
        }
        const { pullChannels } = await import("@kiln/packages/pull-channels");
        const specs = await readChannelSpecs(command, options);
        const previous = await readPulledChannels(config, profile);
        await store.prepare?.(previous.map((instance) => instance.item));
        const instances = await pullChannels(store.channelStore, specs, {
          checkoutsDir: locations.checkoutsDir,
          env: who.env,
          previous,
          addRoot: store.addRoot,
          onProgress: info,
        });
        const same =
          instances.length === previous.length &&
          instances.every((instance, index) => instance.item === previous[index]?.item);
        if (same) {
          info("nothing to be done");
          return;
        }
        info("Building from these channels:");
        for (const instance of instances)
          info(`  ${instance.name.padEnd(10)}${instance.url}\t${instance.commit.slice(0, 7)}`);
        const manifest = {
          entries: instances.map((instance) => ({
            name: instance.name,
            version: instance.commit,
            output: "out",
            item: instance.item,
            searchPaths: [],
          })),
        };
        const result = await profiles.withProfileLock(profile, () =>
          profiles.makeGeneration(store.maker, profile, manifest),
        );
        if (result.unchanged) {
          info("nothing to be done");
          return;
        }
        if (profile === locations.profile) ensureCurrentLink(locations.currentLink, profile);
        out(`switched from generation ${result.previous} to ${result.generation}`);
      };

      const { connectDaemon } = await import("../open-daemon.ts");
      const client = await connectDaemon(config);
      if (client) {
        // As `guix pull` with guix-daemon: the checkout goes in with AddToStore.
        const { daemonGenerationMaker } = await import("../profile-through-daemon.ts");
        const valid = new Set<string>();
        try {
          await run({
            maker: daemonGenerationMaker(client, config, process.stderr),
            channelStore: {
              isValidPath: (path) => valid.has(path),
              addToStore: async (source, addOptions) =>
                (await client.addToStore(source, { name: addOptions?.name })).path,
            },
            addRoot: (path) => client.addTempRoot(path),
            async prepare(items) {
              for (const item of items) {
                await client.addTempRoot(item);
                if (await client.isValidPath(item)) valid.add(item);
              }
            },
          });
        } finally {
          client.close();
        }
        return;
      }
      const { TempRoots } = await import("@kiln/gc/temp-roots");
      await withStore(config, async (store) => {
        const tempRoots = TempRoots.open(store.config);
        try {
          await run({
            maker: profiles.localGenerationMaker(store, { tempRoots }),
            channelStore: store,
            addRoot: (path) => tempRoots.add(path),
          });
        } finally {
          tempRoots.close();
        }
      });
    });
}

/** `~/.config/kiln/current` → the profile, made once (an existing one is left alone). */
function ensureCurrentLink(link: string, profile: string): void {
  if (lstatSync(link, { throwIfNoEntry: false })) return;
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(profile, link);
}
