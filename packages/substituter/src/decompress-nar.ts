/**
 * Decompresses a nar as it streams in. zstd, gzip and brotli go through node:zlib (on
 * libuv's thread pool, so several downloads decompress in parallel); xz, bzip2 and lzip
 * through the `xz`, `bzip2` and `lzip` programs, fed through pipes with backpressure,
 * which is what Guix does too and keeps a big decompressor out of our dependencies.
 */
import { spawn, spawnSync } from "node:child_process";
import { Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress, createGunzip, createZstdDecompress } from "node:zlib";
import { KilnError } from "@kiln/formats/kiln-error";
import { SubstituterError } from "./substituter-error.ts";

/** Program names (or paths) for the decompressors that run as child processes. */
export interface DecompressPrograms {
  readonly xz?: string;
  readonly bzip2?: string;
  readonly lzip?: string;
}

/**
 * Output chunks of 256 KiB rather than zlib's 16 KiB: every chunk then travels through
 * the hashing, parsing and restoring stages, and measured on a 100 MiB nar the NAR
 * parse took half the time with the bigger chunks.
 */
const CHUNK_SIZE = 256 << 10;
const ZLIB: Readonly<Record<string, () => Transform>> = {
  zstd: () => createZstdDecompress({ chunkSize: CHUNK_SIZE }),
  gzip: () => createGunzip({ chunkSize: CHUNK_SIZE }),
  br: () => createBrotliDecompress({ chunkSize: CHUNK_SIZE }),
};
const PROGRAMS = ["xz", "bzip2", "lzip"] as const;
type ProgramCompression = (typeof PROGRAMS)[number];

function isProgramCompression(compression: string): compression is ProgramCompression {
  return (PROGRAMS as readonly string[]).includes(compression);
}

const installed = new Map<string, boolean>();

/**
 * True when `compression` can be decompressed here: always for none, zstd, gzip and br;
 * for xz, bzip2 and lzip when the program runs (checked once per process).
 */
export function canDecompress(compression: string, programs: DecompressPrograms = {}): boolean {
  if (compression === "none" || compression in ZLIB) return true;
  if (!isProgramCompression(compression)) return false;
  const program = programs[compression] ?? compression;
  let ok = installed.get(program);
  if (ok === undefined) {
    ok = spawnSync(program, ["--version"], { stdio: "ignore" }).status === 0;
    installed.set(program, ok);
  }
  return ok;
}

/**
 * The decompressed bytes of `source`. Corrupt or truncated data fails with
 * ERR_SUBSTITUTE_CORRUPT naming the compression; errors of `source` itself (a broken
 * download) pass through unchanged, so the message says what really went wrong.
 * @example for await (const chunk of decompressNar(response.body, "zstd")) restore(chunk);
 */
export function decompressNar(
  source: AsyncIterable<Uint8Array>,
  compression: string,
  options: { programs?: DecompressPrograms } = {},
): AsyncIterable<Uint8Array> {
  if (compression === "none") return source;
  const zlib = ZLIB[compression];
  if (zlib) return throughTransform(source, zlib(), compression);
  if (isProgramCompression(compression)) {
    return throughProgram(source, options.programs?.[compression] ?? compression, compression);
  }
  throw new SubstituterError(
    "COMPRESSION",
    `unsupported nar compression ${JSON.stringify(compression)}`,
  );
}

function corrupt(compression: string, detail: string, cause?: unknown): SubstituterError {
  return new SubstituterError(
    "CORRUPT",
    `the ${compression} data is corrupt or truncated (${detail})`,
    { cause },
  );
}

/** Remembers the first error of `source`, so it can be told apart from the decompressor's. */
function watched(source: AsyncIterable<Uint8Array>): {
  readonly chunks: AsyncIterable<Uint8Array>;
  readonly error: () => unknown;
} {
  let failure: unknown;
  return {
    chunks: (async function* () {
      try {
        yield* source;
      } catch (error) {
        failure ??= error;
        throw error;
      }
    })(),
    error: () => failure,
  };
}

async function* throughTransform(
  source: AsyncIterable<Uint8Array>,
  transform: Transform,
  compression: string,
): AsyncGenerator<Uint8Array> {
  const input = watched(source);
  const feeding = pipeline(Readable.from(input.chunks, { objectMode: false }), transform).catch(
    () => {}, // reported through the transform's own iteration below
  );
  try {
    for await (const chunk of transform) yield chunk as Buffer;
    await feeding;
  } catch (error) {
    const sourceError = input.error();
    if (sourceError !== undefined) throw sourceError;
    if (error instanceof KilnError) throw error;
    throw corrupt(compression, (error as Error).message, error);
  } finally {
    // Not awaiting `feeding` here: when the consumer gives up early, the source may be
    // waiting on the network; the caller aborts the download, which ends it.
    transform.destroy();
  }
}

async function* throughProgram(
  source: AsyncIterable<Uint8Array>,
  program: string,
  compression: string,
): AsyncGenerator<Uint8Array> {
  const child = spawn(program, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    throw new SubstituterError(
      "MISSING_PROGRAM",
      missing
        ? `cannot decompress ${compression}: the ${program} program is not installed`
        : `cannot run ${program} to decompress ${compression}: ${(cause as Error).message}`,
      { cause, hint: missing ? `install ${program} (apt-get install ${compression})` : undefined },
    );
  }
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  const input = watched(source);
  // EPIPE when the program stops reading (corrupt input) is expected; its exit status says why.
  const feeding = pipeline(Readable.from(input.chunks, { objectMode: false }), child.stdin).catch(
    () => {},
  );
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await feeding;
    const { code, signal } = await exited;
    const sourceError = input.error();
    if (sourceError !== undefined) throw sourceError;
    if (code !== 0) {
      const detail = stderr.trim().split("\n").pop() || `exit ${code ?? signal}`;
      throw corrupt(compression, `${program}: ${detail}`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}
