/**
 * Hash algorithms and the textual forms of hashes used by Nix and Guix:
 * base16 (hex), nix32, base64 and SRI (`sha256-<base64>`), plus `algo:digest`.
 */
import { createHash } from "node:crypto";
import { FormatError } from "./kiln-error.ts";
import { decodeNix32, encodeNix32, nix32Length } from "./nix32.ts";

export type HashAlgorithm = "md5" | "sha1" | "sha256" | "sha512";
export type HashEncoding = "nix32" | "base16" | "base64" | "sri";

export const HASH_SIZES: Readonly<Record<HashAlgorithm, number>> = Object.freeze({
  md5: 16,
  sha1: 20,
  sha256: 32,
  sha512: 64,
});

/** A digest together with its algorithm. */
export interface Hash {
  readonly algorithm: HashAlgorithm;
  readonly digest: Uint8Array;
}

export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return Object.hasOwn(HASH_SIZES, name);
}

/** Parses an algorithm name, rejecting anything Nix does not support. */
export function parseHashAlgorithm(name: string): HashAlgorithm {
  if (!isHashAlgorithm(name)) {
    throw new FormatError("hash", `unknown hash algorithm ${JSON.stringify(name)}`, {
      hint: "use one of md5, sha1, sha256, sha512",
    });
  }
  return name;
}

/** Digest of bytes or a UTF-8 string. */
export function hashBytes(algorithm: HashAlgorithm, data: Uint8Array | string): Hash {
  return { algorithm, digest: new Uint8Array(createHash(algorithm).update(data).digest()) };
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text))
    throw new FormatError("hex", `invalid base16 text of length ${text.length}`);
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Strict base64 decoding (standard alphabet, padding required). */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new FormatError("base64", "invalid base64 text");
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Prints a digest in one encoding; `sri` includes the algorithm prefix. */
export function formatDigest(hash: Hash, encoding: HashEncoding): string {
  switch (encoding) {
    case "nix32":
      return encodeNix32(hash.digest);
    case "base16":
      return toHex(hash.digest);
    case "base64":
      return toBase64(hash.digest);
    case "sri":
      return `${hash.algorithm}-${toBase64(hash.digest)}`;
  }
}

/** `algo:nix32` as used in narinfos (`NarHash: sha256:…`) and CA fields. */
export function formatHashNix32(hash: Hash): string {
  return `${hash.algorithm}:${encodeNix32(hash.digest)}`;
}

/** Decodes a bare digest of a known algorithm in any of base16, nix32 or base64, by its length. */
export function decodeDigest(algorithm: HashAlgorithm, text: string): Hash {
  const size = HASH_SIZES[algorithm];
  if (text.length === size * 2) return { algorithm, digest: fromHex(text) };
  if (text.length === nix32Length(size)) return { algorithm, digest: decodeNix32(text, size) };
  if (text.length === Math.ceil(size / 3) * 4) {
    const digest = fromBase64(text);
    if (digest.length === size) return { algorithm, digest };
  }
  throw new FormatError(
    "hash",
    `${algorithm} digest ${JSON.stringify(text)} has the wrong length for base16, nix32 or base64`,
  );
}

/**
 * Parses `algo:digest`, SRI `algo-base64`, or a bare digest when `defaultAlgorithm` is given.
 * @example parseHash("sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s")
 */
export function parseHash(text: string, defaultAlgorithm?: HashAlgorithm): Hash {
  const colon = text.indexOf(":");
  if (colon > 0)
    return decodeDigest(parseHashAlgorithm(text.slice(0, colon)), text.slice(colon + 1));
  const dash = text.indexOf("-");
  if (dash > 0 && isHashAlgorithm(text.slice(0, dash))) {
    const algorithm = text.slice(0, dash) as HashAlgorithm;
    const digest = fromBase64(text.slice(dash + 1));
    if (digest.length !== HASH_SIZES[algorithm])
      throw new FormatError("hash", `SRI digest has the wrong length for ${algorithm}`);
    return { algorithm, digest };
  }
  if (defaultAlgorithm) return decodeDigest(defaultAlgorithm, text);
  throw new FormatError("hash", `${JSON.stringify(text)} names no hash algorithm`, {
    hint: "write it as sha256:<digest>",
  });
}
