/**
 * Which channels package names come from: `--channel DIR` when given (repeatable), else
 * the channels of the user's current pull generation, else the sample channel of this
 * repository. Reading a generation needs no store database: the profile's manifest lists
 * one entry per channel, whose item holds the channel's record (channel-instance.ts).
 */
import { readFileSync } from "node:fs";
import type { ChannelInstance } from "@kiln/packages/channel-instance";
import type { ChannelSpec } from "@kiln/packages/channel-spec";
import type { Command } from "commander";
import { channelLocations, DEFAULT_CHANNEL_DIR, DEFAULT_CHANNELS } from "./channel-locations.ts";
import type { CliConfig } from "./cli-config.ts";
import { configOf } from "./global-config.ts";
import { whoAmI } from "./who-am-i.ts";

/**
 * The channels recorded in a pull profile or one of its generations (`PROFILE-N-link`);
 * none when it does not exist.
 * @example readPulledChannels(config, "/var/kiln/profiles/per-user/ada/current-kiln")
 */
export async function readPulledChannels(
  config: Pick<CliConfig, "storeDir" | "realStoreDir">,
  profileOrGeneration: string,
): Promise<ChannelInstance[]> {
  const { resolveInStore } = await import("@kiln/profiles/resolve-in-store");
  const { parseProfileManifest } = await import("@kiln/profiles/profile-manifest");
  const { readChannelInstance } = await import("@kiln/packages/channel-instance");
  const manifest = resolveInStore(config, `${profileOrGeneration}/manifest`);
  if (!manifest) return [];
  return parseProfileManifest(readFileSync(manifest.real, "utf8")).entries.map((entry) => {
    const real = resolveInStore(config, entry.item)?.real ?? entry.item;
    return readChannelInstance(real, entry);
  });
}

/** Where a pulled channel's directory is on this host. */
export function realChannelDir(
  config: Pick<CliConfig, "storeDir" | "realStoreDir">,
  instance: ChannelInstance,
): string {
  const real = config.realStoreDir + instance.item.slice(config.storeDir.length);
  return `${real}/channels/${instance.name}`;
}

/**
 * The channel directories a package command reads, in order.
 * @example await currentChannelDirs(command, options.channel)
 */
export async function currentChannelDirs(
  command: Command,
  override: readonly string[] = [],
): Promise<string[]> {
  if (override.length > 0) return [...override];
  const config = configOf(command);
  const { profile } = channelLocations(config, whoAmI(command));
  const pulled = await readPulledChannels(config, profile);
  if (pulled.length === 0) return [DEFAULT_CHANNEL_DIR];
  return pulled.map((instance) => realChannelDir(config, instance));
}

/** `-C FILE`, and `--url`, `--branch`, `--commit`, which apply to the first channel. */
export interface ChannelSpecOptions {
  readonly channels?: string;
  readonly url?: string;
  readonly branch?: string;
  readonly commit?: string;
}

/**
 * The channels to pull: `-C FILE` when given, else the first channels file that exists,
 * else the default channel; then the first channel gets `--url`, `--branch`, `--commit`
 * (as Guix applies them to its `guix` channel).
 * @example await readChannelSpecs(command, { commit: "0123abc" })
 */
export async function readChannelSpecs(
  command: Command,
  options: ChannelSpecOptions,
): Promise<ChannelSpec[]> {
  const { checkChannelSpec, parseChannelsFile } = await import("@kiln/packages/channel-spec");
  const candidates = options.channels
    ? [options.channels]
    : channelLocations(configOf(command), whoAmI(command)).channelsFiles;
  let specs: ChannelSpec[] = [...DEFAULT_CHANNELS];
  for (const candidate of candidates) {
    let text: string;
    try {
      text = readFileSync(candidate, "utf8");
    } catch (error) {
      if (!options.channels && (error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    specs = parseChannelsFile(text, candidate);
    break;
  }
  const [first, ...rest] = specs as [ChannelSpec, ...ChannelSpec[]];
  if (options.url === undefined && options.branch === undefined && options.commit === undefined)
    return specs;
  // A new branch or URL without --commit means that branch's tip, not the file's pin.
  const pinned = options.commit;
  const changed = checkChannelSpec(
    {
      name: first.name,
      url: options.url ?? first.url,
      branch: options.branch ?? first.branch,
      ...(pinned === undefined ? {} : { commit: pinned }),
    },
    "--url/--branch/--commit",
  );
  return [changed, ...rest];
}
