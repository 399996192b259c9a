/**
 * `--delete-generations[=PATTERN]` (and `kiln gc -d`), with Guix's semantics: no pattern
 * deletes every generation but the current one; a pattern (see matching-generations.ts;
 * a duration means "older than") deletes what it matches, except the current generation,
 * which is never deleted (a warning says so), and generation 0. Matching nothing else is
 * an error. Deleting a generation removes its link; the collector does the rest.
 */
import { unlinkSync } from "node:fs";
import { matchingGenerations, parseGenerationPattern } from "./matching-generations.ts";
import { ProfileError } from "./profile-error.ts";
import {
  currentGeneration,
  generationFile,
  generationNumbers,
  generationTime,
  profileExists,
} from "./profile-generations.ts";

export interface DeletedGenerations {
  /** The generation links removed. */
  readonly deleted: string[];
  /** Said to the user, not fatal (the current generation was spared). */
  readonly warnings: string[];
}

/**
 * @example deleteGenerations(profile, "1m") // generations older than a month go
 * @example deleteGenerations(profile, "") // all but the current one
 */
export function deleteGenerations(
  profile: string,
  pattern: string,
  options: { now?: Date; onWarning?: (message: string) => void } = {},
): DeletedGenerations {
  if (!profileExists(profile)) {
    throw new ProfileError("NOT_FOUND", `profile ${profile} does not exist`);
  }
  const current = currentGeneration(profile);
  const existing = generationNumbers(profile);
  const warnings: string[] = [];
  let numbers: number[];
  if (pattern === "") {
    numbers = existing.filter((n) => n !== current);
  } else if (/^[+-]?0+$/.test(pattern)) {
    return { deleted: [], warnings }; // the zeroth generation is never deleted
  } else {
    const generations = existing.map((number) => ({
      number,
      time: generationTime(profile, number),
    }));
    numbers = matchingGenerations(parseGenerationPattern(pattern), generations, {
      now: options.now ?? new Date(),
      relation: "older",
    });
    if (numbers.includes(current)) {
      const warning = `not removing generation ${current}, which is current`;
      warnings.push(warning);
      options.onWarning?.(warning); // before a "no matching generation" error, as in Guix
      numbers = numbers.filter((n) => n !== current);
    }
    if (numbers.filter((n) => n !== 0).length === 0) {
      throw new ProfileError("NO_MATCH", "no matching generation", {
        hint: "list them with: kiln package --list-generations",
      });
    }
  }
  const deleted: string[] = [];
  for (const number of numbers) {
    if (number === 0) continue;
    const link = generationFile(profile, number);
    unlinkSync(link);
    deleted.push(link);
  }
  return { deleted, warnings };
}
