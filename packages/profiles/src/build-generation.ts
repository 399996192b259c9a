/**
 * Making a new generation: write and realise the profile derivation for a manifest, link
 * `PROFILE-(N+1)-link` to it (N the current generation, so after a roll-back the next
 * generation replaces the "future" one, as in Guix), then switch `PROFILE` to it. A
 * profile outside the profiles directory gets each generation link registered as an
 * indirect GC root. Everything is temporarily rooted until the link exists.
 */
import { basename, sep } from "node:path";
import { addIndirectRoot } from "@kiln/gc/add-indirect-root";
import { gcLayout } from "@kiln/gc/gc-layout";
import { switchSymlink } from "@kiln/gc/switch-symlink";
import type { TempRoots } from "@kiln/gc/temp-roots";
import type { LocalStore } from "@kiln/store/local-store";
import { writeProfileDerivation } from "./profile-derivation.ts";
import { currentGeneration, generationFile, generationTarget } from "./profile-generations.ts";
import type { ProfileManifest } from "./profile-manifest.ts";
import { realiseBuildenv } from "./realise-buildenv.ts";

export interface GenerationResult {
  /** The generation current before. */
  readonly previous: number;
  /** The generation current now (the same when nothing changed). */
  readonly generation: number;
  /** The profile store item. */
  readonly storePath: string;
  /** True when the profile already had exactly this content: no generation was made. */
  readonly unchanged: boolean;
}

/** Builds the profile item for `manifest`; returns its store path (rooted in tempRoots). */
export async function buildProfileItem(
  store: LocalStore,
  manifest: ProfileManifest,
  options: { tempRoots: TempRoots },
): Promise<string> {
  const { drvPath } = await writeProfileDerivation(store, manifest, options);
  return realiseBuildenv(store, drvPath);
}

/** Links `link` (a generation file) to `storePath`, registering it as a root if needed. */
export function linkGeneration(store: LocalStore, link: string, storePath: string): void {
  switchSymlink(link, storePath);
  const { profilesDir } = gcLayout(store.config);
  if (!link.startsWith(profilesDir + sep)) addIndirectRoot(store.config, link);
}

/**
 * Makes `manifest` the profile's next generation and switches to it. The caller holds the
 * profile lock (withProfileLock).
 * @example await buildGeneration(store, profile, manifest, { tempRoots })
 */
export async function buildGeneration(
  store: LocalStore,
  profile: string,
  manifest: ProfileManifest,
  options: { tempRoots: TempRoots },
): Promise<GenerationResult> {
  const storePath = await buildProfileItem(store, manifest, options);
  const previous = currentGeneration(profile);
  if (previous > 0 && generationTarget(profile, previous) === storePath) {
    return { previous, generation: previous, storePath, unchanged: true };
  }
  const generation = previous + 1;
  const link = generationFile(profile, generation);
  linkGeneration(store, link, storePath);
  switchSymlink(profile, basename(link));
  return { previous, generation, storePath, unchanged: false };
}
