/**
 * `--roll-back` and `--switch-generation`, with Guix's semantics:
 * - roll-back goes to the previous existing generation; from the first one it goes to
 *   generation 0, made on the spot as the empty profile (only its manifest); at
 *   generation 0 there is nothing to do;
 * - switching takes a number, or `+N`/`-N` relative to the current generation among the
 *   existing ones; a generation that does not exist is an error and nothing changes.
 */
import { basename } from "node:path";
import { switchSymlink } from "@kiln/gc/switch-symlink";
import type { TempRoots } from "@kiln/gc/temp-roots";
import type { LocalStore } from "@kiln/store/local-store";
import { type GenerationMaker, localGenerationMaker } from "./build-generation.ts";
import { ProfileError } from "./profile-error.ts";
import {
  currentGeneration,
  generationFile,
  generationNumbers,
  profileExists,
} from "./profile-generations.ts";
import { EMPTY_MANIFEST } from "./profile-manifest.ts";
import { relativeGeneration } from "./relative-generation.ts";

export interface GenerationChange {
  readonly from: number;
  readonly to: number;
}

function requireProfile(profile: string): void {
  if (!profileExists(profile)) {
    throw new ProfileError("NOT_FOUND", `profile ${profile} does not exist`, {
      hint: "install something in it first",
    });
  }
}

/**
 * Switches `profile` to generation `number`, which must exist.
 * @example switchToGeneration(profile, 3) // { from: 5, to: 3 }
 */
export function switchToGeneration(profile: string, number: number): GenerationChange {
  requireProfile(profile);
  const from = currentGeneration(profile);
  const link = generationFile(profile, number);
  if (!profileExists(link)) {
    throw new ProfileError(
      "MISSING_GENERATION",
      `generation ${number} of profile ${profile} does not exist`,
    );
  }
  switchSymlink(profile, basename(link));
  return { from, to: number };
}

/**
 * `--switch-generation=PATTERN`: a number, or `+N`/`-N`.
 * @example switchGeneration(profile, "-1")
 */
export function switchGeneration(profile: string, pattern: string): GenerationChange {
  if (!/^[+-]?[0-9]+$/.test(pattern)) {
    throw new ProfileError("CANNOT_SWITCH", `cannot switch to generation '${pattern}'`);
  }
  requireProfile(profile);
  const number =
    pattern.startsWith("+") || pattern.startsWith("-")
      ? relativeGeneration(generationNumbers(profile), currentGeneration(profile), Number(pattern))
      : Number(pattern);
  if (number === undefined) {
    throw new ProfileError("CANNOT_SWITCH", `cannot switch to generation '${pattern}'`);
  }
  return switchToGeneration(profile, number);
}

/**
 * `--roll-back`. The caller holds the profile lock.
 * @example await rollBack(store, profile, { tempRoots }) // { from: 2, to: 1 }
 */
export async function rollBack(
  store: LocalStore,
  profile: string,
  options: { tempRoots: TempRoots },
): Promise<GenerationChange> {
  return rollBackWith(localGenerationMaker(store, options), profile);
}

/**
 * rollBack with any GenerationMaker (it makes generation 0 when needed).
 * @example await rollBackWith(maker, profile) // { from: 2, to: 1 }
 */
export async function rollBackWith(
  maker: GenerationMaker,
  profile: string,
): Promise<GenerationChange> {
  requireProfile(profile);
  const number = currentGeneration(profile);
  if (number === 0) return { from: 0, to: 0 };
  const previous = relativeGeneration(generationNumbers(profile), number, -1) ?? 0;
  const link = generationFile(profile, previous);
  if (previous === 0 || !profileExists(link)) {
    await maker.link(link, await maker.buildItem(EMPTY_MANIFEST));
  }
  return switchToGeneration(profile, previous);
}
