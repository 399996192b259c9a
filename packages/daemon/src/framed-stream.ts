/**
 * The framed byte streams of protocol 1.23+ (AddToStore, AddToStoreNar,
 * AddMultipleToStore): chunks, each preceded by its length as a u64 and *not* padded,
 * ending with an empty chunk. They let a sender stream data of unknown length, and let
 * the receiver find the end without understanding the contents.
 */
import { FormatError } from "@kiln/formats/kiln-error";
import { type FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";

/** Larger frames are read in pieces of this size, so one frame never sits in memory whole. */
const PIECE = 1 << 20;

/**
 * Yields the bytes of the framed stream at the reader's position, leaving the reader just
 * after the terminating empty frame. The consumer must drain it (or call
 * `drainFramedStream`) before reading anything else.
 */
export async function* readFramedStream(
  reader: FrameReader,
  options: { maxTotal?: number } = {},
): AsyncGenerator<Uint8Array, void, void> {
  const maxTotal = options.maxTotal ?? Number.MAX_SAFE_INTEGER;
  let total = 0;
  for (;;) {
    const at = reader.offset;
    const length = await reader.u64();
    if (length === 0) return;
    total += length;
    if (total > maxTotal) {
      throw new FormatError(
        "worker protocol",
        `framed data at byte ${at} exceeds the limit of ${maxTotal} bytes`,
      );
    }
    for (let left = length; left > 0; ) {
      const n = Math.min(left, PIECE);
      yield await reader.bytes(n);
      left -= n;
    }
  }
}

/** Skips the rest of a framed stream (after an error half-way), keeping the connection usable. */
export async function drainFramedStream(stream: AsyncIterator<Uint8Array>): Promise<void> {
  for (;;) {
    const { done } = await stream.next();
    if (done) return;
  }
}

/**
 * The stream as an iterable that a consumer cannot close: `for await` calls `return()`
 * when its body throws, which would end the generator before the rest of its frames
 * were read; without `return()`, the caller can still drain it afterwards.
 */
export function unclosable<T>(iterator: AsyncIterator<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => iterator.next() }),
  };
}

/** Frames `chunks` for sending: each non-empty chunk with its length, then the end marker. */
export async function* frameChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, void> {
  const header = new FrameWriter();
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    yield header.u64(chunk.length).take();
    yield chunk;
  }
  yield header.u64(0).take();
}
