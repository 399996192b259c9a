/**
 * Pulls NAR framing out of a stream of chunks of any size: exact reads of small tokens,
 * u64 lengths, padded strings, and zero-copy slices for file contents. Every failure is a
 * FormatError that gives the byte offset, so a broken archive can be located.
 */
import { FormatError } from "./kiln-error.ts";
import { narPadding } from "./nar-tokens.ts";

const EMPTY = new Uint8Array(0);

export class NarByteReader {
  readonly #chunks: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  /** Offset in the archive of `#chunk[0]`. */
  #chunkOffset = 0;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#chunks =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  /** Offset in the archive of the next unread byte. */
  get offset(): number {
    return this.#chunkOffset + this.#pos;
  }

  /** A FormatError naming the problem, the byte offset (default: the current one) and the entry. */
  error(problem: string, path?: string, at = this.offset): FormatError {
    const where =
      path === undefined ? "" : ` in ${path === "" ? "the root" : JSON.stringify(path)}`;
    return new FormatError("nar", `${problem} at byte ${at}${where}`);
  }

  /** Makes unread bytes available; false at the end of the input. */
  async #fill(): Promise<boolean> {
    while (this.#pos === this.#chunk.length) {
      if (this.#ended) return false;
      const next = await this.#chunks.next();
      if (next.done) {
        this.#ended = true;
        return false;
      }
      this.#chunkOffset += this.#chunk.length;
      this.#chunk = next.value;
      this.#pos = 0;
    }
    return true;
  }

  /** Exactly `length` bytes (copied when they span chunks). */
  async read(length: number, what: string, path?: string): Promise<Uint8Array> {
    if (this.#chunk.length - this.#pos >= length) {
      this.#pos += length;
      return this.#chunk.subarray(this.#pos - length, this.#pos);
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (!(await this.#fill())) throw this.error(`truncated archive: ${what} is cut short`, path);
      const take = Math.min(length - filled, this.#chunk.length - this.#pos);
      out.set(this.#chunk.subarray(this.#pos, this.#pos + take), filled);
      this.#pos += take;
      filled += take;
    }
    return out;
  }

  /** Up to `max` (> 0) bytes, as a view of the input; for streaming file contents. */
  async readSome(max: number, what: string, path?: string): Promise<Uint8Array> {
    if (!(await this.#fill())) throw this.error(`truncated archive: ${what} is cut short`, path);
    const take = Math.min(max, this.#chunk.length - this.#pos);
    this.#pos += take;
    return this.#chunk.subarray(this.#pos - take, this.#pos);
  }

  /** A u64le length; anything beyond 2^53 cannot be a real length. */
  async readLength(what: string, path?: string): Promise<number> {
    const at = this.offset;
    const bytes = await this.read(8, what, path);
    const low = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
    const high = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0;
    if (high > 0x1f_ffff) throw this.error(`absurd length of ${what}`, path, at);
    return high * 0x1_0000_0000 + low;
  }

  /** The zero bytes after `length` bytes of string data; anything else is rejected. */
  async readPadding(length: number, what: string, path?: string): Promise<void> {
    const padding = narPadding(length);
    if (padding === 0) return;
    const at = this.offset;
    const bytes = await this.read(padding, `padding of ${what}`, path);
    if (bytes.some((byte) => byte !== 0))
      throw this.error(`non-zero padding after ${what}`, path, at);
  }

  /** A whole `str(...)` of at most `max` bytes, copied (the input chunks may be reused). */
  async readString(max: number, what: string, path?: string): Promise<Uint8Array> {
    const at = this.offset;
    const length = await this.readLength(what, path);
    if (length > max) {
      throw this.error(`${what} of ${length} bytes is longer than the limit of ${max}`, path, at);
    }
    const bytes = (await this.read(length, what, path)).slice();
    await this.readPadding(length, what, path);
    return bytes;
  }

  /** Discards `length` bytes. */
  async skip(length: number, what: string, path?: string): Promise<void> {
    let remaining = length;
    while (remaining > 0) remaining -= (await this.readSome(remaining, what, path)).length;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }
}
