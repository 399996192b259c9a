/** Substitute URLs: how users write them, and how resources under them are named. */
import { SubstituterError } from "./substituter-error.ts";

/**
 * Checks and normalises a substitute URL (`http://`, `https://` or `file://`, without a
 * trailing slash), the form used as the key of cached answers.
 * @example normaliseCacheUrl("https://cache.example.org/") // "https://cache.example.org"
 */
export function normaliseCacheUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new SubstituterError("BAD_URL", `${JSON.stringify(text)} is not a URL`, {
      cause,
      hint: "substitute URLs look like https://cache.example.org or file:///srv/cache",
    });
  }
  if (!["http:", "https:", "file:"].includes(url.protocol)) {
    throw new SubstituterError("BAD_URL", `unsupported substitute URL ${text}`, {
      hint: "use http://, https:// or file://",
    });
  }
  if (url.search || url.hash) {
    throw new SubstituterError("BAD_URL", `substitute URL ${text} has a query or fragment`);
  }
  return url.href.replace(/\/+$/, "");
}

/** The URL of `relative` (e.g. `nar/….nar.zst`, or an absolute URL a narinfo gives) in a cache. */
export function cacheResourceUrl(cacheUrl: string, relative: string): URL {
  return new URL(relative, `${cacheUrl}/`);
}
