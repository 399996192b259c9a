/**
 * Compressions `kiln publish` serves nars in, parsed from guix publish's
 * `-C/--compression METHOD[:LEVEL]`, and their compressor streams: gzip and zstd from
 * node:zlib; lzip, which has no maintained JavaScript implementation, through the
 * `lzip` program (as the substituter decompresses it), when it is installed.
 */
import type { Duplex } from "node:stream";
import { constants, createGzip, createZstdCompress } from "node:zlib";
import { createProgramCompressor, programRuns } from "./program-compressor.ts";
import { PublishError } from "./publish-error.ts";

export type CompressionMethod = "none" | "gzip" | "zstd" | "lzip";

export interface Compression {
  readonly method: CompressionMethod;
  /** 1–9 for gzip and lzip, 1–19 for zstd; 0 for none. */
  readonly level: number;
}

/** Programs behind the compressions that are not in node:zlib (tests name a missing one). */
export interface CompressPrograms {
  /** Default `lzip`, found on PATH. */
  readonly lzip?: string;
}

/** guix publish's default, `gzip:3`. */
export const DEFAULT_COMPRESSION: Compression = Object.freeze({ method: "gzip", level: 3 });

const MAX_LEVEL: Record<CompressionMethod, number> = { none: 0, gzip: 9, zstd: 19, lzip: 9 };

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
  if (!isCompressionMethod(method)) {
    throw new PublishError("COMPRESSION", `unknown compression method ${JSON.stringify(method)}`, {
      hint: "use none, gzip, zstd or lzip",
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

/**
 * Checks that every compression can run here: lzip needs its program.
 * @example checkCompressors([parseCompression("lzip:9")]) // throws when lzip is not installed
 */
export function checkCompressors(
  compressions: readonly Compression[],
  programs: CompressPrograms = {},
): void {
  const program = programs.lzip ?? "lzip";
  if (compressions.some((c) => c.method === "lzip") && !programRuns(program)) {
    throw new PublishError(
      "COMPRESSION",
      `--compression lzip needs the ${program} program, which is not installed`,
      { hint: "install lzip (apt-get install lzip), or use --compression zstd" },
    );
  }
}

/** A stream compressing with `compression`, or undefined for none. */
export function createCompressor(
  compression: Compression,
  programs: CompressPrograms = {},
): Duplex | undefined {
  switch (compression.method) {
    case "none":
      return undefined;
    case "gzip":
      return createGzip({ level: compression.level });
    case "zstd":
      return createZstdCompress({
        params: { [constants.ZSTD_c_compressionLevel]: compression.level },
      });
    case "lzip":
      return createProgramCompressor(programs.lzip ?? "lzip", [`-${compression.level}`, "-c"]);
  }
}

/** True for the methods kiln publish can serve. */
export function isCompressionMethod(name: string): name is CompressionMethod {
  return name === "none" || name === "gzip" || name === "zstd" || name === "lzip";
}
