/**
 * The manifest entry for a store item being installed. Until packages exist (issue 6),
 * name and version come from the store path's name, split as Nix splits derivation names
 * (`hello-2.12` → `hello`, `2.12`: the version starts at the first `-` followed by a
 * non-letter), after removing an output suffix (`-lib`, `-doc`) when the output is not
 * `out`. The output is the one asked for, or the one the item's deriver records it as.
 */
import { parseStorePath } from "@kiln/formats/store-path";
import type { LocalStore } from "@kiln/store/local-store";
import type { StoreConfig } from "@kiln/store/store-config";
import type { ManifestEntry } from "./profile-manifest.ts";
import { resolveInStore } from "./resolve-in-store.ts";
import { searchPathsOf } from "./search-paths.ts";

/**
 * Splits a package's store name into name and version.
 * @example splitNameVersion("gcc-toolchain-12.3.0") // { name: "gcc-toolchain", version: "12.3.0" }
 */
export function splitNameVersion(storeName: string): { name: string; version: string } {
  const match = /-(?![A-Za-z])/.exec(storeName);
  if (!match) return { name: storeName, version: "" };
  return { name: storeName.slice(0, match.index), version: storeName.slice(match.index + 1) };
}

/** Which output of its deriver `item` is, if the store recorded it. */
export function recordedOutput(store: LocalStore, item: string): string | undefined {
  const deriver = store.queryPathInfo(item)?.deriver;
  if (!deriver || !store.isValidPath(deriver)) return undefined;
  for (const [name, path] of store.db.derivationOutputs(deriver)) if (path === item) return name;
  return undefined;
}

/**
 * Describes a valid store item for the manifest.
 * @example manifestEntryFor(store, "/gnu/store/…-hello-2.12") // { name: "hello", version: "2.12", output: "out", … }
 */
export function manifestEntryFor(
  store: LocalStore,
  item: string,
  options: { output?: string } = {},
): ManifestEntry {
  store.requirePathInfo(item);
  return manifestEntryOf(store.config, item, options.output ?? recordedOutput(store, item));
}

/**
 * The manifest entry for `item` (valid, readable on this host) as output `output` (`out`
 * when unknown): what manifestEntryFor says, without the store's database.
 * @example manifestEntryOf(config, "/gnu/store/…-hello-2.12-doc", "doc") // { name: "hello", version: "2.12", … }
 */
export function manifestEntryOf(
  config: Pick<StoreConfig, "storeDir" | "realStoreDir">,
  item: string,
  output = "out",
): ManifestEntry {
  let storeName = parseStorePath(item, config.storeDir).name;
  if (output !== "out" && storeName.endsWith(`-${output}`)) {
    storeName = storeName.slice(0, -(output.length + 1));
  }
  const exists = (relative: string) =>
    resolveInStore(config, `${item}/${relative}`)?.stat.isDirectory() ?? false;
  return { ...splitNameVersion(storeName), output, item, searchPaths: searchPathsOf(exists) };
}
