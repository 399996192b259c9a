/**
 * Which of a narinfo's downloads to try, best first. Nix narinfos offer one; `guix
 * publish -C zstd -C gzip` offers one per compression.
 */
import type { NarinfoUrl } from "@kiln/formats/narinfo";

/**
 * The URLs we can decompress, zstd first (it decompresses several times faster than the
 * others, which matters more than a few percent of size), then smallest file first, in
 * the narinfo's order when sizes are unknown.
 * @example selectNarUrls(narinfo.urls, (c) => c !== "lzip")[0].compression // "zstd"
 */
export function selectNarUrls(
  urls: readonly NarinfoUrl[],
  canDecompress: (compression: string) => boolean,
): NarinfoUrl[] {
  const rank = (url: NarinfoUrl) => (url.compression === "zstd" ? 0 : 1);
  return urls
    .map((url, index) => ({ url, index }))
    .filter(({ url }) => canDecompress(url.compression))
    .sort(
      (a, b) =>
        rank(a.url) - rank(b.url) ||
        (a.url.fileSize ?? Number.MAX_SAFE_INTEGER) - (b.url.fileSize ?? Number.MAX_SAFE_INTEGER) ||
        a.index - b.index,
    )
    .map(({ url }) => url);
}
