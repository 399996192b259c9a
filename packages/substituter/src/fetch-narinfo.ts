import { cacheResourceUrl } from "./cache-url.ts";
import { type ResourceFetcher, readText } from "./resource-fetcher.ts";
import { SubstituterError } from "./substituter-error.ts";

/** A cache's answer about one hash part: the text, or absent (404), with the server's max-age. */
export interface NarinfoResponse {
  readonly text: string | undefined;
  readonly maxAge?: number;
}

/**
 * Asks a cache for `<hashPart>.narinfo`. 404 (and 403, which S3 buckets send for a
 * missing key) mean "not there"; any other failure throws, and is not cached.
 * @example (await fetchNarinfo(fetcher, cacheUrl, "94f9f6i31zwzwbf0kclq1naqxxi4c7v9")).text
 */
export async function fetchNarinfo(
  fetcher: ResourceFetcher,
  cacheUrl: string,
  hashPart: string,
): Promise<NarinfoResponse> {
  const url = cacheResourceUrl(cacheUrl, `${hashPart}.narinfo`);
  const resource = await fetcher.get(url);
  const maxAge = resource.maxAge === undefined ? {} : { maxAge: resource.maxAge };
  if (resource.status === 404 || resource.status === 403) return { text: undefined, ...maxAge };
  if (resource.status !== 200) {
    throw new SubstituterError("HTTP", `${url.href}: HTTP status ${resource.status}`);
  }
  return { text: await readText(resource, url), ...maxAge };
}
