/**
 * Where a user's profiles are: `${stateDir}/kiln/profiles/per-user/<user>/kiln-profile`
 * is the default profile, and `~/.kiln-profile` links to it (as Guix's
 * `/var/guix/profiles/per-user/<user>/guix-profile` and `~/.guix-profile`). The profiles
 * directory is searched for roots by the collector, so every generation there is kept.
 */
import { join } from "node:path";
import { gcLayout } from "@kiln/gc/gc-layout";
import type { StoreConfig } from "@kiln/store/store-config";

export interface ProfileLocations {
  /** `${stateDir}/kiln/profiles/per-user/<user>`. */
  readonly userProfilesDir: string;
  /** The user's default profile. */
  readonly defaultProfile: string;
  /** `~/.kiln-profile`, a link to the default profile. */
  readonly homeLink: string;
}

/**
 * @example profileLocations(config, { user: "ada", home: "/home/ada" }).defaultProfile
 * // "/var/kiln/profiles/per-user/ada/kiln-profile"
 */
export function profileLocations(
  config: Pick<StoreConfig, "stateDir" | "realStoreDir">,
  who: { user: string; home: string },
): ProfileLocations {
  const userProfilesDir = join(gcLayout(config).profilesDir, "per-user", who.user);
  return {
    userProfilesDir,
    defaultProfile: join(userProfilesDir, "kiln-profile"),
    homeLink: join(who.home, ".kiln-profile"),
  };
}
