/**
 * The manifest of a profile or of one of its generations, read through the store (the
 * profile's links point at logical store paths, which may live elsewhere on this host).
 */
import { readFileSync } from "node:fs";
import type { StoreConfig } from "@kiln/store/store-config";
import { EMPTY_MANIFEST, type ProfileManifest, parseProfileManifest } from "./profile-manifest.ts";
import { resolveInStore } from "./resolve-in-store.ts";

/**
 * The manifest of `profileOrGeneration` (a profile, or a `PROFILE-N-link`); the empty
 * manifest when it does not exist yet.
 * @example readProfileManifest(store, "/var/kiln/profiles/per-user/ada/kiln-profile").entries
 */
export function readProfileManifest(
  store: { readonly config: Pick<StoreConfig, "storeDir" | "realStoreDir"> },
  profileOrGeneration: string,
): ProfileManifest {
  const file = resolveInStore(store.config, `${profileOrGeneration}/manifest`);
  if (!file) return EMPTY_MANIFEST;
  return parseProfileManifest(readFileSync(file.real, "utf8"));
}
