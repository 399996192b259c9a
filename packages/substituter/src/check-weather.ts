/**
 * Substitute "weather", as `guix weather` reports it: for each server, how many of the
 * given store paths it has narinfos for, how big their nars are, and how fast it
 * answered. Lookups bypass the narinfo cache, since the point is to measure the server.
 * Servers are asked one after another so their timings do not disturb each other.
 */
import { FormatError } from "@kiln/formats/kiln-error";
import type { Narinfo } from "@kiln/formats/narinfo";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { parseStorePath } from "@kiln/formats/store-path";
import { type TrustedKey, verifyNarinfo } from "@kiln/formats/verify-narinfo";
import { normaliseCacheUrl } from "./cache-url.ts";
import { createLimiter } from "./create-limiter.ts";
import { fetchCacheInfo } from "./fetch-cache-info.ts";
import { fetchNarinfo } from "./fetch-narinfo.ts";
import {
  createResourceFetcher,
  type ProxySettings,
  type ResourceFetcher,
} from "./resource-fetcher.ts";

export interface WeatherOptions {
  /** Servers, reported in this order. */
  readonly urls: readonly string[];
  readonly storeDir: string;
  /** When given, also count the narinfos validly signed by one of these keys. */
  readonly trustedKeys?: readonly TrustedKey[];
  readonly fetcher?: ResourceFetcher;
  readonly proxy?: ProxySettings;
  /** Narinfo requests in flight at once per server (default 25). */
  readonly concurrency?: number;
  /** Called as each server's lookups start and as they complete. */
  readonly onProgress?: (progress: { url: string; done: number; total: number }) => void;
}

/** One server's report. Times are in milliseconds. */
export interface ServerWeather {
  readonly url: string;
  /** Why the server could not be asked at all (no nix-cache-info, other StoreDir, unreachable). */
  readonly error?: string;
  readonly priority?: number;
  /** Paths it has a narinfo for. */
  readonly available: readonly string[];
  /** Paths it answered 404 for, or whose narinfo was unusable. */
  readonly missing: readonly string[];
  /** Narinfos that were malformed or named another store path (also in `missing`). */
  readonly invalid: number;
  /** Requests that failed other than with 404 (also in `missing`). */
  readonly failedRequests: number;
  /** With `trustedKeys`: how many available narinfos carry a valid trusted signature. */
  readonly signed?: number;
  /** Sum of NarSize over available paths. */
  readonly narSize: number;
  /** Sum of the smallest FileSize over available paths that state one. */
  readonly fileSize: number;
  /** How many available narinfos stated a FileSize. */
  readonly fileSizeKnown: number;
  /** Time of each narinfo request, in the order they finished. */
  readonly requestTimes: readonly number[];
  /** Wall-clock time of the whole lookup. */
  readonly elapsed: number;
}

/**
 * Asks each server about each path and reports what it has and how fast it answered.
 * Never throws for a server problem: the report carries it in `error`.
 * @example const [report] = await checkWeather(paths, { urls: ["http://127.0.0.1:8080"], storeDir: "/gnu/store" });
 */
export async function checkWeather(
  paths: readonly string[],
  options: WeatherOptions,
): Promise<ServerWeather[]> {
  const unique = [...new Set(paths)];
  for (const path of unique) parseStorePath(path, options.storeDir);
  const fetcher = options.fetcher ?? createResourceFetcher({ proxy: options.proxy });
  try {
    const reports: ServerWeather[] = [];
    for (const url of options.urls) reports.push(await checkServer(unique, url, fetcher, options));
    return reports;
  } finally {
    if (!options.fetcher) fetcher.close();
  }
}

async function checkServer(
  paths: readonly string[],
  rawUrl: string,
  fetcher: ResourceFetcher,
  options: WeatherOptions,
): Promise<ServerWeather> {
  const report = {
    url: rawUrl,
    available: [] as string[],
    missing: [] as string[],
    invalid: 0,
    failedRequests: 0,
    narSize: 0,
    fileSize: 0,
    fileSizeKnown: 0,
    requestTimes: [] as number[],
    elapsed: 0,
    ...(options.trustedKeys ? { signed: 0 } : {}),
  };
  let url: string;
  let priority: number;
  try {
    url = normaliseCacheUrl(rawUrl);
    priority = (await fetchCacheInfo(fetcher, url, options.storeDir)).priority;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { ...report, missing: [...paths], error: error.message };
  }
  const limit = createLimiter(options.concurrency ?? 25);
  const start = performance.now();
  let done = 0;
  options.onProgress?.({ url, done, total: paths.length });
  await Promise.all(
    paths.map((path) =>
      limit(async () => {
        const asked = performance.now();
        let text: string | undefined;
        try {
          text = (await fetchNarinfo(fetcher, url, parseStorePath(path, options.storeDir).hashPart))
            .text;
        } catch {
          report.failedRequests++;
        }
        report.requestTimes.push(performance.now() - asked);
        const narinfo = text === undefined ? undefined : readNarinfo(text, path, options.storeDir);
        if (narinfo === undefined) {
          if (text !== undefined) report.invalid++;
          report.missing.push(path);
        } else {
          report.available.push(path);
          report.narSize += narinfo.narSize;
          const sizes = narinfo.urls.flatMap((u) => (u.fileSize === undefined ? [] : [u.fileSize]));
          if (sizes.length > 0) {
            report.fileSize += Math.min(...sizes);
            report.fileSizeKnown++;
          }
          if (options.trustedKeys && text !== undefined) {
            const check = verifyNarinfo(text, options.trustedKeys, { storeDir: options.storeDir });
            if (check.valid) report.signed = (report.signed ?? 0) + 1;
          }
        }
        options.onProgress?.({ url, done: ++done, total: paths.length });
      }),
    ),
  );
  report.elapsed = performance.now() - start;
  // Report paths in the order they were given, not the order answers came in.
  const order = new Map(paths.map((path, index) => [path, index]));
  const byOrder = (a: string, b: string) => order.get(a)! - order.get(b)!;
  return {
    ...report,
    url,
    priority,
    available: report.available.sort(byOrder),
    missing: report.missing.sort(byOrder),
  };
}

function readNarinfo(text: string, path: string, storeDir: string): Narinfo | undefined {
  try {
    const narinfo = parseNarinfo(text, { storeDir });
    return narinfo.storePath === path ? narinfo : undefined;
  } catch (error) {
    if (error instanceof FormatError) return undefined;
    throw error;
  }
}
