/**
 * One change to a profile at a time: `PROFILE.lock`, taken without waiting (as Guix's
 * `with-profile-lock`: a second `kiln package` on the same profile fails at once).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { acquirePathLock } from "@kiln/store/path-lock";
import { ProfileError } from "./profile-error.ts";

/**
 * Runs `body` holding the profile's lock.
 * @example await withProfileLock(profile, () => rollBack(store, profile, options))
 */
export async function withProfileLock<T>(profile: string, body: () => Promise<T> | T): Promise<T> {
  mkdirSync(dirname(profile), { recursive: true });
  const lock = await acquirePathLock(`${profile}.lock`, { wait: false });
  if (!lock) {
    throw new ProfileError("LOCKED", `profile ${profile} is locked by another process`);
  }
  try {
    return await body();
  } finally {
    lock.release();
  }
}
