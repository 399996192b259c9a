import { type CacheInfo, parseCacheInfo } from "./cache-info.ts";
import { cacheResourceUrl } from "./cache-url.ts";
import { type ResourceFetcher, readText } from "./resource-fetcher.ts";
import { SubstituterError } from "./substituter-error.ts";

/**
 * Reads a cache's `nix-cache-info` and checks that it serves our store directory: the
 * hash of a store path covers its directory, so a `/gnu/store` cache can never hold a
 * `/nix/store` path. Throws a SubstituterError saying why the cache is not usable.
 * @example await fetchCacheInfo(fetcher, "http://127.0.0.1:8080", "/gnu/store") // { priority: 40, … }
 */
export async function fetchCacheInfo(
  fetcher: ResourceFetcher,
  cacheUrl: string,
  storeDir: string,
): Promise<CacheInfo> {
  const url = cacheResourceUrl(cacheUrl, "nix-cache-info");
  const resource = await fetcher.get(url);
  if (resource.status === 404) {
    throw new SubstituterError(
      "NOT_A_CACHE",
      `${cacheUrl} does not appear to be a binary cache (no nix-cache-info)`,
    );
  }
  if (resource.status !== 200) {
    throw new SubstituterError("HTTP", `${url.href}: HTTP status ${resource.status}`);
  }
  const info = parseCacheInfo(await readText(resource, url));
  if (info.storeDir !== undefined && info.storeDir !== storeDir) {
    throw new SubstituterError(
      "STORE_DIR",
      `binary cache ${cacheUrl} is for store ${info.storeDir}, not ${storeDir}`,
      { hint: `use a cache whose nix-cache-info says StoreDir: ${storeDir}` },
    );
  }
  return info;
}
