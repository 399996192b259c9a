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
import type { StoreConfig } from "@kiln/store/store-config";
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

/**
 * How generations are made in a store: a local store opened by its owner
 * (localGenerationMaker), or a daemon's store (the CLI's, through the daemon client).
 */
export interface GenerationMaker {
  /** Builds the profile item for `manifest`; returns its store path, rooted until the links exist. */
  buildItem(manifest: ProfileManifest): Promise<string>;
  /** Links `link` (a generation file) to `storePath`, registering it as a root if needed. */
  link(link: string, storePath: string): Promise<void>;
}

/**
 * Generations in a local store opened directly (by its owner).
 * @example await makeGeneration(localGenerationMaker(store, { tempRoots }), profile, manifest)
 */
export function localGenerationMaker(
  store: LocalStore,
  options: { tempRoots: TempRoots },
): GenerationMaker {
  return {
    buildItem: (manifest) => buildProfileItem(store, manifest, options),
    link: async (link, storePath) => linkGeneration(store, link, storePath),
  };
}

/** Whether a generation link needs an indirect root: it is outside the profiles directory. */
export function needsIndirectRoot(
  config: Pick<StoreConfig, "stateDir" | "realStoreDir">,
  link: string,
): boolean {
  return !link.startsWith(gcLayout(config).profilesDir + sep);
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
  if (needsIndirectRoot(store.config, link)) addIndirectRoot(store.config, link);
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
  return makeGeneration(localGenerationMaker(store, options), profile, manifest);
}

/**
 * buildGeneration with any GenerationMaker (a daemon's store, for instance).
 * @example await makeGeneration(maker, profile, manifest)
 */
export async function makeGeneration(
  maker: GenerationMaker,
  profile: string,
  manifest: ProfileManifest,
): Promise<GenerationResult> {
  const storePath = await maker.buildItem(manifest);
  const previous = currentGeneration(profile);
  if (previous > 0 && generationTarget(profile, previous) === storePath) {
    return { previous, generation: previous, storePath, unchanged: true };
  }
  const generation = previous + 1;
  const link = generationFile(profile, generation);
  await maker.link(link, storePath);
  switchSymlink(profile, basename(link));
  return { previous, generation, storePath, unchanged: false };
}
