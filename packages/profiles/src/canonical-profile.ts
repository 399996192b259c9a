/**
 * Guix's `canonicalize-profile`: `-p ~/.kiln-profile` means the profile it links to, so
 * that its generations are found beside the real profile, not beside the home link.
 */
import { readlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * @example canonicalProfile("/home/ada/.kiln-profile", "/var/kiln/profiles/per-user/ada")
 * // "/var/kiln/profiles/per-user/ada/kiln-profile"
 */
export function canonicalProfile(profile: string, userProfilesDir: string): string {
  const trimmed = resolve(profile.replace(/\/+$/, ""));
  try {
    const target = resolve(dirname(trimmed), readlinkSync(trimmed));
    return dirname(target) === userProfilesDir ? target : trimmed;
  } catch {
    return trimmed;
  }
}
