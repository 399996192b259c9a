/**
 * Nix's "base32": a 32-letter alphabet without e, o, t, u, reading the bytes as a
 * little-endian integer and printing it most significant digit first, so byte 0
 * ends up at the end of the string.
 */
import { FormatError } from "./kiln-error.ts";

const ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

/** Length of the nix32 text for `byteLength` bytes: ceil(8·n/5). */
export function nix32Length(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

/**
 * Encodes bytes as nix32.
 * @example encodeNix32(new Uint8Array(20).fill(0).fill(1, 0, 1)) // "000…001"
 */
export function encodeNix32(bytes: Uint8Array): string {
  const n = nix32Length(bytes.length);
  let out = "";
  for (let k = n - 1; k >= 0; k--) {
    const b = k * 5;
    const i = b >> 3;
    const j = b & 7;
    const c = (bytes[i] >> j) | (i + 1 < bytes.length ? bytes[i + 1] << (8 - j) : 0);
    out += ALPHABET[c & 31];
  }
  return out;
}

/**
 * Decodes nix32 text into `byteLength` bytes (default: the length the text implies).
 * Rejects letters outside the alphabet and bits set beyond the byte length.
 */
export function decodeNix32(
  text: string,
  byteLength = Math.floor((text.length * 5) / 8),
): Uint8Array {
  if (text.length !== nix32Length(byteLength)) {
    throw new FormatError(
      "nix32",
      `expected ${nix32Length(byteLength)} characters for ${byteLength} bytes, got ${text.length}`,
    );
  }
  const out = new Uint8Array(byteLength);
  for (let n = 0; n < text.length; n++) {
    const code = text.charCodeAt(text.length - 1 - n);
    const d = code < 128 ? DIGIT[code] : -1;
    if (d < 0)
      throw new FormatError(
        "nix32",
        `invalid character ${JSON.stringify(text[text.length - 1 - n])}`,
      );
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    out[i] |= (d << j) & 0xff;
    const carry = d >> (8 - j);
    if (i + 1 < byteLength) out[i + 1] |= carry;
    else if (carry !== 0) throw new FormatError("nix32", "bits set beyond the byte length");
  }
  return out;
}

/** True when `text` is nix32 of exactly `byteLength` bytes. */
export function isNix32(text: string, byteLength: number): boolean {
  try {
    decodeNix32(text, byteLength);
    return true;
  } catch {
    return false;
  }
}
