/**
 * Framing of the Nix/Guix worker protocol: unsigned 64-bit little-endian integers,
 * strings as length + bytes + zero padding to a multiple of 8 (the same `str` as NAR),
 * and lists/sets of strings as a count followed by the strings.
 *
 * `FrameWriter` assembles outgoing frames in one growing buffer; `FrameReader` takes
 * chunks as they arrive from a socket and answers asynchronous reads, with limits so a
 * hostile peer cannot make us allocate absurd amounts of memory.
 */
import { FormatError } from "./kiln-error.ts";

const ZERO_PADDING = new Uint8Array(8);

/** Limits on what a peer may send; anything larger is a protocol error. */
export interface FrameLimits {
  /** Largest string/byte field accepted (default 64 MiB). */
  readonly maxStringLength: number;
  /** Largest number of elements in a string list or set (default 10 million). */
  readonly maxListLength: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = Object.freeze({
  maxStringLength: 64 * 1024 * 1024,
  maxListLength: 10_000_000,
});

/** Builds outgoing worker-protocol frames. */
export class FrameWriter {
  #buffer = new Uint8Array(256);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }

  /** Appends an unsigned 64-bit integer (number must be a safe non-negative integer). */
  u64(value: number | bigint): this {
    const big = typeof value === "bigint" ? value : BigInt(value);
    if (
      big < 0n ||
      big > 0xffffffffffffffffn ||
      (typeof value === "number" && !Number.isSafeInteger(value))
    ) {
      throw new FormatError(
        "worker protocol",
        `cannot encode ${value} as an unsigned 64-bit integer`,
      );
    }
    this.#reserve(8);
    this.#view.setBigUint64(this.#length, big, true);
    this.#length += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.u64(value ? 1 : 0);
  }

  /** Appends a length-prefixed, zero-padded string (UTF-8 for JS strings). */
  string(value: string | Uint8Array): this {
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    this.u64(bytes.length);
    const padded = (bytes.length + 7) & ~7;
    this.#reserve(padded);
    this.#buffer.set(bytes, this.#length);
    this.#buffer.fill(0, this.#length + bytes.length, this.#length + padded);
    this.#length += padded;
    return this;
  }

  /** Appends a count and then each string. Sets are written in the iteration order given. */
  strings(values: Iterable<string | Uint8Array>): this {
    const list = [...values];
    this.u64(list.length);
    for (const value of list) this.string(value);
    return this;
  }

  /** Appends raw bytes (already framed by the caller). */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  get length(): number {
    return this.#length;
  }

  /** Returns the frame so far and resets the writer. */
  take(): Uint8Array {
    const out = this.#buffer.slice(0, this.#length);
    this.#length = 0;
    return out;
  }
}

/** Padding needed after `length` bytes to reach a multiple of 8. */
export function paddingLength(length: number): number {
  return (8 - (length % 8)) % 8;
}

export { ZERO_PADDING };

/**
 * Reads worker-protocol values from chunks pushed in as they arrive.
 * Reads are served in order; a read waiting for data resolves when enough arrives, or
 * rejects with a FormatError when the input ends first.
 */
export class FrameReader {
  readonly #limits: FrameLimits;
  #chunks: Uint8Array[] = [];
  #available = 0;
  #ended = false;
  #error: Error | undefined;
  #waiter: (() => void) | undefined;
  #drain: { limit: number; resolve: () => void } | undefined;
  /** Total bytes consumed so far; used in error messages. */
  offset = 0;

  constructor(limits: Partial<FrameLimits> = {}) {
    this.#limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#available += chunk.length;
    this.#wake();
  }

  /** Marks the end of input; pending and later reads that need more bytes fail. */
  end(error?: Error): void {
    this.#ended = true;
    this.#error = error;
    this.#wake();
    this.#checkDrain();
  }

  get buffered(): number {
    return this.#available;
  }

  /**
   * Resolves once at most `limit` bytes are buffered: a producer pushing from a stream
   * awaits this between chunks, which gives backpressure.
   */
  drained(limit: number): Promise<void> {
    if (this.#available <= limit || this.#ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drain = { limit, resolve };
    });
  }

  #checkDrain(): void {
    const drain = this.#drain;
    if (drain && (this.#available <= drain.limit || this.#ended)) {
      this.#drain = undefined;
      drain.resolve();
    }
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async #need(count: number): Promise<void> {
    while (this.#available < count) {
      if (this.#ended) {
        throw (
          this.#error ??
          new FormatError(
            "worker protocol",
            `input ended after ${this.offset + this.#available} bytes; expected ${count - this.#available} more`,
          )
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  /** Takes exactly `count` bytes (count already checked to be available). */
  #take(count: number): Uint8Array {
    if (count === 0) return new Uint8Array(0);
    this.#available -= count;
    this.offset += count;
    if (this.#drain) queueMicrotask(() => this.#checkDrain());
    const first = this.#chunks[0];
    if (first.length === count) {
      this.#chunks.shift();
      return first;
    }
    if (first.length > count) {
      this.#chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.#chunks[0];
      const n = Math.min(chunk.length, count - filled);
      out.set(chunk.subarray(0, n), filled);
      filled += n;
      if (n === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(n);
    }
    return out;
  }

  /** Reads exactly `count` raw bytes. */
  async bytes(count: number): Promise<Uint8Array> {
    await this.#need(count);
    return this.#take(count);
  }

  /** Reads a u64 as a bigint. */
  async u64Big(): Promise<bigint> {
    const bytes = await this.bytes(8);
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  }

  /** Reads a u64 that must fit in a safe JS integer. */
  async u64(): Promise<number> {
    const at = this.offset;
    const value = await this.u64Big();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FormatError("worker protocol", `integer ${value} at byte ${at} is too large`);
    }
    return Number(value);
  }

  async bool(): Promise<boolean> {
    return (await this.u64()) !== 0;
  }

  /** Reads a padded byte string, rejecting absurd lengths and non-zero padding. */
  async byteString(maxLength = this.#limits.maxStringLength): Promise<Uint8Array> {
    const at = this.offset;
    const length = await this.u64();
    if (length > maxLength) {
      throw new FormatError(
        "worker protocol",
        `string of ${length} bytes at byte ${at} exceeds the limit of ${maxLength}`,
      );
    }
    const pad = paddingLength(length);
    await this.#need(length + pad);
    const value = this.#take(length);
    const padding = this.#take(pad);
    if (padding.some((b) => b !== 0)) {
      throw new FormatError("worker protocol", `non-zero padding after the string at byte ${at}`);
    }
    // Copy so the caller never holds a view into a larger socket buffer.
    return value.slice();
  }

  /** Reads a padded string as UTF-8 text. */
  async string(maxLength?: number): Promise<string> {
    return Buffer.from(await this.byteString(maxLength)).toString("utf8");
  }

  /** Reads a counted list of strings. */
  async strings(maxLength?: number): Promise<string[]> {
    const at = this.offset;
    const count = await this.u64();
    if (count > this.#limits.maxListLength) {
      throw new FormatError(
        "worker protocol",
        `list of ${count} strings at byte ${at} exceeds the limit of ${this.#limits.maxListLength}`,
      );
    }
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(await this.string(maxLength));
    return out;
  }
}
