/**
 * The byte framing of a NAR (FORMATS.md §1): every token is `u64le(len) || bytes || zero
 * padding to a multiple of 8`. The writer emits the fixed token sequences below as
 * precomputed byte runs so that a whole file header costs one copy, not a dozen.
 */

/** First token of every archive. */
export const NAR_MAGIC = "nix-archive-1";

/** Longest name or symlink target accepted: Linux's PATH_MAX; Nix cannot dump or restore more. */
export const NAR_MAX_NAME_BYTES = 4096;

/** Number of zero bytes that follow `length` bytes of string data. */
export function narPadding(length: number): number {
  return (8 - (length % 8)) % 8;
}

/** Writes `u64le(value)` at `offset` (values up to 2^53, so two 32-bit halves suffice). */
export function writeU64(target: Uint8Array, offset: number, value: number): void {
  const low = value % 0x1_0000_0000;
  const high = (value - low) / 0x1_0000_0000;
  target[offset] = low & 0xff;
  target[offset + 1] = (low >>> 8) & 0xff;
  target[offset + 2] = (low >>> 16) & 0xff;
  target[offset + 3] = low >>> 24;
  target[offset + 4] = high & 0xff;
  target[offset + 5] = (high >>> 8) & 0xff;
  target[offset + 6] = (high >>> 16) & 0xff;
  target[offset + 7] = high >>> 24;
}

/** The complete encoding `str(s)` of one token. */
export function narString(text: string | Uint8Array): Uint8Array {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const out = new Uint8Array(8 + bytes.length + narPadding(bytes.length));
  writeU64(out, 0, bytes.length);
  out.set(bytes, 8);
  return out;
}

function tokens(...texts: string[]): Uint8Array {
  const parts = texts.map((text) => narString(text));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Magic token that opens the archive. */
export const PROLOGUE = tokens(NAR_MAGIC);
/** Opens a regular file node up to (excluding) the `u64le(size)` of its contents. */
export const REGULAR_HEAD = tokens("(", "type", "regular", "contents");
/** Same for an executable file: the `executable ""` marker precedes `contents`. */
export const EXECUTABLE_HEAD = tokens("(", "type", "regular", "executable", "", "contents");
/** Opens a symlink node; the target string follows. */
export const SYMLINK_HEAD = tokens("(", "type", "symlink", "target");
/** Opens a directory node; entries follow. */
export const DIRECTORY_HEAD = tokens("(", "type", "directory");
/** Opens a directory entry; the name string follows. */
export const ENTRY_HEAD = tokens("entry", "(", "name");
/** Between an entry's name and its node. */
export const ENTRY_NODE = tokens("node");
/** Closes a node or an entry. */
export const CLOSE = tokens(")");
