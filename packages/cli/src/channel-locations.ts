/**
 * Where channels live for a user, as Guix keeps them:
 * - the current generation of channels: the profile
 *   `${state}/kiln/profiles/per-user/USER/current-kiln`, linked from
 *   `~/.config/kiln/current` (Guix: `current-guix`, `~/.config/guix/current`);
 * - the channels file: `~/.config/kiln/channels.json`, else `${configDir}/channels.json`,
 *   else the default channel (the sample channel of the Kiln repository this program
 *   runs from);
 * - bare clones of the channels' repositories: `~/.cache/kiln/checkouts`.
 * `XDG_CONFIG_HOME` and `XDG_CACHE_HOME` replace `~/.config` and `~/.cache`.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChannelSpec } from "@kiln/packages/channel-spec";
import { profileLocations } from "@kiln/profiles/profile-locations";
import type { CliConfig } from "./cli-config.ts";
import type { Identity } from "./who-am-i.ts";

export interface ChannelLocations {
  /** The profile whose generations are the pulled channels. */
  readonly profile: string;
  /** `~/.config/kiln/current`, a link to the profile. */
  readonly currentLink: string;
  /** Channels files, the first that exists wins. */
  readonly channelsFiles: readonly string[];
  readonly checkoutsDir: string;
}

/** The Kiln repository this program is part of (the default channel's repository). */
export const KILN_REPOSITORY = fileURLToPath(new URL("../../..", import.meta.url)).replace(
  /\/$/,
  "",
);

/** Where package names come from until a first `kiln pull`: this repository's sample channel. */
export const DEFAULT_CHANNEL_DIR = `${KILN_REPOSITORY}/channels/sample`;

/** The channel pulled when no channels file exists: `channels/sample` of Kiln's repository. */
export const DEFAULT_CHANNELS: readonly ChannelSpec[] = Object.freeze([
  Object.freeze({ name: "sample", url: KILN_REPOSITORY, branch: "main" }),
]);

/** @example channelLocations(config, whoAmI(command)).profile */
export function channelLocations(
  config: Pick<CliConfig, "stateDir" | "realStoreDir" | "configDir">,
  who: Identity,
): ChannelLocations {
  const configHome = who.env.XDG_CONFIG_HOME || join(who.home, ".config");
  const cacheHome = who.env.XDG_CACHE_HOME || join(who.home, ".cache");
  return {
    profile: join(profileLocations(config, who).userProfilesDir, "current-kiln"),
    currentLink: join(configHome, "kiln", "current"),
    channelsFiles: [
      join(configHome, "kiln", "channels.json"),
      join(config.configDir, "channels.json"),
    ],
    checkoutsDir: join(cacheHome, "kiln", "checkouts"),
  };
}
