/**
 * Reference scanning (FORMATS.md §4): after a build, the NAR of each output is searched for
 * the 32-character nix32 hash parts of the candidate store paths; each one found becomes a
 * reference. Like Nix, we look only at runs of nix32 characters: a window is checked from
 * its end, and the first byte outside the alphabet lets the search skip past it, so binary
 * data is scanned at a fraction of a lookup per byte.
 */
import { FormatError } from "./kiln-error.ts";

const HASH_LENGTH = 32;
const IS_NIX32 = new Uint8Array(256);
for (const char of "0123456789abcdfghijklmnpqrsvwxyz") IS_NIX32[char.charCodeAt(0)] = 1;

export interface ReferenceScanner {
  /** Scans the next bytes of the stream (a hash split across two chunks is still found). */
  update(chunk: Uint8Array): void;
  /** The hash parts seen so far. */
  found(): Set<string>;
}

/**
 * A streaming scanner for the given hash parts (the 32 characters after `/nix/store/`).
 *
 * @example
 * const scanner = createReferenceScanner(["1b8m03r63zqhnjf7l5wnldhh7c134ap5"]);
 * for await (const chunk of dumpPath(out)) scanner.update(chunk);
 * scanner.found(); // Set { "1b8m03r63zqhnjf7l5wnldhh7c134ap5" } if referenced
 */
export function createReferenceScanner(hashParts: Iterable<string>): ReferenceScanner {
  const wanted = new Set<string>();
  for (const part of hashParts) {
    if (part.length !== HASH_LENGTH || ![...part].every((c) => IS_NIX32[c.charCodeAt(0)] === 1)) {
      throw new FormatError(
        "store path",
        `${JSON.stringify(part)} is not a 32-character nix32 hash part`,
      );
    }
    wanted.add(part);
  }
  const seen = new Set<string>();
  // The last HASH_LENGTH - 1 bytes seen: a hash may start there and end in the next chunk.
  let tail = new Uint8Array(0);

  const scan = (data: Uint8Array, end: number): void => {
    // Windows starting at [0, end) are checked; the data must extend HASH_LENGTH - 1 past end.
    let start = 0;
    let known = 0; // bytes at data[start..start+known) already known to be nix32
    while (start < end && start + HASH_LENGTH <= data.length) {
      let j = HASH_LENGTH - 1;
      while (j >= known && IS_NIX32[data[start + j]] === 1) j--;
      if (j >= known) {
        // data[start + j] is not nix32: no window containing it can match.
        known = HASH_LENGTH - 1 - j;
        start += j + 1;
        continue;
      }
      const candidate = latin1(data, start);
      if (wanted.has(candidate)) {
        seen.add(candidate);
        wanted.delete(candidate);
      }
      start += 1;
      known = HASH_LENGTH - 1;
    }
  };

  return {
    update(chunk) {
      if (chunk.length === 0 || wanted.size === 0) return;
      if (tail.length > 0) {
        // Windows that start in the tail: scan tail + the head of this chunk.
        const joined = new Uint8Array(tail.length + Math.min(chunk.length, HASH_LENGTH - 1));
        joined.set(tail);
        joined.set(chunk.subarray(0, joined.length - tail.length), tail.length);
        scan(joined, tail.length);
      }
      scan(chunk, chunk.length);
      const keep = HASH_LENGTH - 1;
      if (chunk.length >= keep) tail = chunk.slice(chunk.length - keep);
      else {
        const joined = new Uint8Array(Math.min(keep, tail.length + chunk.length));
        const fromTail = joined.length - chunk.length;
        joined.set(tail.subarray(tail.length - fromTail));
        joined.set(chunk, fromTail);
        tail = joined;
      }
    },
    found() {
      return new Set(seen);
    },
  };
}

function latin1(data: Uint8Array, start: number): string {
  return Buffer.from(data.buffer, data.byteOffset + start, HASH_LENGTH).toString("latin1");
}
