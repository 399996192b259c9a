/**
 * `dumpPath`: the NAR serialisation of a file-system path, as `nix-store --dump` writes it.
 */
import { type NarChunksOptions, narChunks } from "./nar-chunks.ts";

export interface DumpPathOptions {
  /** Largest chunk yielded, in bytes (default 1 MiB); large files are read this much at a time. */
  readonly highWaterMark?: number;
}

/**
 * Serialises `path` as a NAR, streamed as chunks the consumer may keep. Uses lstat semantics
 * (a top-level symlink is archived as a symlink), records a file as executable exactly when
 * its owner-execute bit is set, orders directory entries by the raw bytes of their names,
 * and rejects sockets, fifos and devices with a FormatError naming the path.
 *
 * The file system is read synchronously one chunk at a time (see nar-chunks.ts), so memory
 * stays bounded by the chunk size however large the files are.
 *
 * @example
 * import { Readable } from "node:stream";
 * Readable.from(dumpPath("/tmp/tree")).pipe(process.stdout);
 */
export async function* dumpPath(
  path: string,
  options: DumpPathOptions = {},
): AsyncGenerator<Uint8Array, void, void> {
  const chunkOptions: NarChunksOptions = { bufferSize: options.highWaterMark, reuseBuffer: false };
  yield* narChunks(path, chunkOptions);
}
