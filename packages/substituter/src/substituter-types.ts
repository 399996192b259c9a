/**
 * The substituter's contract: its options and what its queries and substitutions
 * return, apart from the implementation so clients (builder, daemon, CLI) can import
 * the types alone.
 */
import type { TrustedKey } from "@kiln/formats/verify-narinfo";
import type { CacheInfo } from "./cache-info.ts";
import type { DecompressPrograms } from "./decompress-nar.ts";
import type { DownloadProgress, NarDownload, SubstituteStore } from "./download-nar.ts";
import type { ProxySettings, ResourceFetcher } from "./resource-fetcher.ts";

export interface SubstituterOptions {
  readonly store: SubstituteStore;
  /** Substitute URLs (`http://`, `https://`, `file://`), in the order to try them. */
  readonly urls: readonly string[];
  /** Keys whose signatures we accept (the ACL). */
  readonly trustedKeys: readonly TrustedKey[];
  /**
   * Where lookups are cached: default `${stateDir}/kiln/substitute-cache.sqlite`;
   * `null` keeps them in memory for this Substituter only.
   */
  readonly cacheFile?: string | null;
  /** Seconds a found narinfo is trusted to still be there (default 36 h). */
  readonly positiveTtl?: number;
  /** Seconds a "not found" is remembered (default 1 h). */
  readonly negativeTtl?: number;
  /** How to fetch; default node:http(s) with `proxy`. */
  readonly fetcher?: ResourceFetcher;
  readonly proxy?: ProxySettings;
  /** Narinfo requests in flight at once (default 25, Nix's http-connections). */
  readonly queryConcurrency?: number;
  /** Nar downloads at once (default 8). */
  readonly downloadConcurrency?: number;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Told about caches that cannot be used and paths that fell back to another cache. */
  readonly onWarning?: (message: string) => void;
  readonly programs?: DecompressPrograms;
  /** Milliseconds since the epoch (tests move time forward). */
  readonly clock?: () => number;
}

/** A cache we may use, with what its `nix-cache-info` said. */
export interface UsableCache extends CacheInfo {
  readonly url: string;
}

/** The caches, usable ones in the order they are tried, and the ones refused with why. */
export interface CacheList {
  readonly usable: readonly UsableCache[];
  readonly refused: readonly { readonly url: string; readonly reason: string }[];
}

/** An accepted narinfo for a path: where to fetch it, and which signature vouched for it. */
export interface SubstituteOffer extends NarDownload {
  readonly validBy: readonly string[];
}

/** Per path, the first acceptable offer, or why there is none (one reason per cache). */
export interface PathQuery {
  readonly found: Map<string, SubstituteOffer>;
  readonly missing: Map<string, string>;
}

/** What `queryMissing` finds for a closure. */
export interface MissingPaths {
  /** Invalid paths of the closure that can be substituted. */
  readonly willSubstitute: Map<string, SubstituteOffer>;
  /** Invalid paths that no cache offers, with why. */
  readonly unknown: Map<string, string>;
  /** Total compressed bytes to download (FileSize where known). */
  readonly downloadSize: number;
  /** Total NarSize of what will be substituted. */
  readonly narSize: number;
}

/** What `substitutePaths` did: paths made valid, and paths that could not be, with why. */
export interface SubstituteResult {
  readonly substituted: readonly string[];
  readonly failed: Map<string, string>;
}
