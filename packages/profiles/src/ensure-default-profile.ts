/**
 * Guix's `ensure-default-profile`: before the first change to a user's default profile,
 * its directory `${stateDir}/kiln/profiles/per-user/<user>/` exists and `~/.kiln-profile`
 * links to the profile (an existing `~/.kiln-profile` is left alone).
 */
import { lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { ProfileError } from "./profile-error.ts";
import type { ProfileLocations } from "./profile-locations.ts";

/** @example ensureDefaultProfile(profileLocations(config, { user, home })) */
export function ensureDefaultProfile(locations: ProfileLocations): void {
  try {
    mkdirSync(locations.userProfilesDir, { recursive: true });
  } catch (cause) {
    throw new ProfileError(
      "UNWRITABLE",
      `while creating directory ${locations.userProfilesDir}: ${(cause as Error).message}`,
      { cause, hint: `create ${locations.userProfilesDir} with you as the owner` },
    );
  }
  if (!lstatSync(locations.homeLink, { throwIfNoEntry: false })) {
    symlinkSync(locations.defaultProfile, locations.homeLink);
  }
}
