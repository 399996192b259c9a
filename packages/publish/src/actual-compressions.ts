/**
 * guix publish's rule for store items that are compressed files already (a source
 * tarball such as `…-hello-2.12.tar.gz`): compressing them again gains nothing, so
 * they are advertised, baked and served only uncompressed (`Compression: none`).
 * Guix decides by the file name's extension, not by the contents; so does Kiln, so
 * that both servers offer the same URLs for the same item.
 */
import type { Compression } from "./compression.ts";

/** guix/utils.scm's `compressed-file?` extensions. */
const COMPRESSED_EXTENSIONS = new Set(["gz", "bz2", "xz", "lz", "lzma", "tgz", "tbz2", "zip"]);

const NONE: readonly Compression[] = Object.freeze([Object.freeze({ method: "none", level: 0 })]);

/** True when the store item's name ends in a compressed file's extension. */
export function isCompressedFileName(path: string): boolean {
  const dot = path.lastIndexOf(".");
  return dot > path.lastIndexOf("/") && COMPRESSED_EXTENSIONS.has(path.slice(dot + 1));
}

/**
 * The compressions `path` is offered in: `requested`, or only `none` for an item that
 * is a compressed file already.
 * @example actualCompressions("/gnu/store/…-hello-2.12.tar.gz", [zstd]) // [{ method: "none", level: 0 }]
 */
export function actualCompressions(
  path: string,
  requested: readonly Compression[],
): readonly Compression[] {
  return isCompressedFileName(path) ? NONE : requested;
}
