/**
 * Compressions `kiln publish` serves nars in, parsed from guix publish's
 * `-C/--compression METHOD[:LEVEL]`, and their compressor streams (node:zlib has gzip
 * and zstd; lzip has no maintained JavaScript implementation, so it is refused).
 */
import type { Transform } from "node:stream";
import { constants, createGzip, createZstdCompress } from "node:zlib";
import { PublishError } from "./publish-error.ts";

export type CompressionMethod = "none" | "gzip" | "zstd";

export interface Compression {
  readonly method: CompressionMethod;
  /** 1–9 for gzip, 1–19 for zstd; 0 for none. */
  readonly level: number;
}

/** guix publish's default, `gzip:3`. */
export const DEFAULT_COMPRESSION: Compression = Object.freeze({ method: "gzip", level: 3 });

const MAX_LEVEL: Record<CompressionMethod, number> = { none: 0, gzip: 9, zstd: 19 };

/**
 * Parses `METHOD[:LEVEL]` as guix publish does: a bare number is a gzip level and `0`
 * means none; LEVEL defaults to 3.
 * @example parseCompression("zstd:6") // { method: "zstd", level: 6 }
 */
export function parseCompression(text: string): Compression {
  if (/^[0-9]+$/.test(text)) {
    return text === "0" ? { method: "none", level: 0 } : parseCompression(`gzip:${text}`);
  }
  const match = /^([a-z]+)(?::([0-9]+))?$/.exec(text);
  if (!match) {
    throw new PublishError(
      "COMPRESSION",
      `--compression ${JSON.stringify(text)} is not METHOD[:LEVEL]`,
    );
  }
  const method = match[1];
  if (method === "lzip") {
    throw new PublishError("COMPRESSION", "lzip compression is not supported by kiln publish", {
      hint: "use --compression zstd (or gzip); Guix clients since 1.1 accept zstd",
    });
  }
  if (method !== "none" && method !== "gzip" && method !== "zstd") {
    throw new PublishError("COMPRESSION", `unknown compression method ${JSON.stringify(method)}`, {
      hint: "use none, gzip or zstd",
    });
  }
  if (method === "none") return { method, level: 0 };
  const level = match[2] === undefined ? 3 : Number(match[2]);
  if (level < 1 || level > MAX_LEVEL[method]) {
    throw new PublishError(
      "COMPRESSION",
      `${method} level ${level} is out of range 1–${MAX_LEVEL[method]}`,
    );
  }
  return { method, level };
}

/** A stream compressing with `compression`, or undefined for none. */
export function createCompressor(compression: Compression): Transform | undefined {
  switch (compression.method) {
    case "none":
      return undefined;
    case "gzip":
      return createGzip({ level: compression.level });
    case "zstd":
      return createZstdCompress({
        params: { [constants.ZSTD_c_compressionLevel]: compression.level },
      });
  }
}

/** True for the methods kiln publish can serve. */
export function isCompressionMethod(name: string): name is CompressionMethod {
  return name === "none" || name === "gzip" || name === "zstd";
}
