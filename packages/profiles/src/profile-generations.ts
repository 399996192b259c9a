/**
 * The generations of a profile on disk: `PROFILE-N-link` symlinks into the store beside
 * `PROFILE`, which is a relative symlink to the current one. Generation 0, when it
 * exists, is the empty profile a roll-back from generation 1 lands on.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { basename, dirname } from "node:path";

/** `PROFILE-N-link`. */
export function generationFile(profile: string, number: number): string {
  return `${profile}-${number}-link`;
}

function generationRegExp(profile: string): RegExp {
  const escaped = basename(profile).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}-([0-9]+)-link$`);
}

/**
 * The generation numbers on disk, ascending (0 included when its link exists).
 * @example generationNumbers("/var/kiln/profiles/per-user/ada/kiln-profile") // [1, 2, 4]
 */
export function generationNumbers(profile: string): number[] {
  const pattern = generationRegExp(profile);
  let names: string[];
  try {
    names = readdirSync(dirname(profile));
  } catch {
    return [];
  }
  const numbers: number[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

/** The generation PROFILE points to, or 0 when it does not exist (as Guix). */
export function currentGeneration(profile: string): number {
  try {
    const match = generationRegExp(profile).exec(basename(readlinkSync(profile)));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** True when the profile link itself exists (it points into the store, which need not be on this host's path). */
export function profileExists(profile: string): boolean {
  return lstatSync(profile, { throwIfNoEntry: false }) !== undefined;
}

/** When a generation was made: its link's mtime (as Guix shows it). */
export function generationTime(profile: string, number: number): Date {
  return lstatSync(generationFile(profile, number)).mtime;
}

/** The store path a generation link points to. */
export function generationTarget(profile: string, number: number): string {
  return readlinkSync(generationFile(profile, number));
}
