/**
 * `--list-generations[=PATTERN]`: the generations of a profile (generation 0, the empty
 * one, is not listed), with their dates and contents. A duration lists the generations
 * made since then.
 */
import type { StoreConfig } from "@kiln/store/store-config";
import { matchingGenerations, parseGenerationPattern } from "./matching-generations.ts";
import {
  currentGeneration,
  generationFile,
  generationNumbers,
  generationTime,
} from "./profile-generations.ts";
import type { ProfileManifest } from "./profile-manifest.ts";
import { readProfileManifest } from "./read-profile-manifest.ts";

export interface GenerationInfo {
  readonly number: number;
  readonly time: Date;
  readonly current: boolean;
  readonly manifest: ProfileManifest;
}

/**
 * @example listGenerations(store, profile, "2..") // [{ number: 2, time, current: false, manifest }, …]
 */
export function listGenerations(
  store: { readonly config: Pick<StoreConfig, "storeDir" | "realStoreDir"> },
  profile: string,
  pattern = "",
  options: { now?: Date } = {},
): GenerationInfo[] {
  const generations = generationNumbers(profile)
    .filter((number) => number !== 0)
    .map((number) => ({ number, time: generationTime(profile, number) }));
  const selected =
    pattern === ""
      ? generations.map((g) => g.number)
      : matchingGenerations(parseGenerationPattern(pattern), generations, {
          now: options.now ?? new Date(),
          relation: "newer",
        });
  const current = currentGeneration(profile);
  return generations
    .filter((g) => selected.includes(g.number))
    .map((g) => ({
      ...g,
      current: g.number === current,
      manifest: readProfileManifest(store, generationFile(profile, g.number)),
    }));
}
