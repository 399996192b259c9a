/**
 * ECDSA over the Ed25519 curve, as libgcrypt computes it for Guix: not EdDSA. Points
 * are Edwards points (noble-curves does the arithmetic), `r` is the affine Edwards x
 * coordinate of k·G reduced mod n, and the SHA-256 digest is truncated to the order's
 * 253 bits. The nonce k is RFC 6979's deterministic one (HMAC-SHA256), computed the way
 * libgcrypt's `_gcry_dsa_gen_rfc6979_k` does, so signatures match libgcrypt bit for bit.
 */
import { createHmac } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { FormatError } from "./kiln-error.ts";

const Point = ed25519.Point;
/** The order n of the Ed25519 base point, 2^252 + 27742317777372353535851937790883648493. */
export const ED25519_ORDER: bigint = Point.Fn.ORDER;
const ORDER_BITS = 253;
const ORDER_BYTES = 32;

/** An ECDSA signature (both values in [1, n-1]). */
export interface EcdsaSignature {
  readonly r: bigint;
  readonly s: bigint;
}

function mod(a: bigint, m: bigint): bigint {
  const x = a % m;
  return x < 0n ? x + m : x;
}

function invert(a: bigint): bigint {
  return Point.Fn.inv(mod(a, ED25519_ORDER));
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}

/** Big-endian bytes of `value`, left-padded with zeros to `length`. */
export function bigintToBytes(value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, "0");
  if (hex.length > length * 2) throw new RangeError(`${value} does not fit in ${length} bytes`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** RFC 6979 bits2int: the leftmost qlen bits of a bit string as an integer. */
function bitsToInt(bytes: Uint8Array): bigint {
  const excess = bytes.length * 8 - ORDER_BITS;
  const value = bytesToBigint(bytes);
  return excess > 0 ? value >> BigInt(excess) : value;
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return new Uint8Array(mac.digest());
}

/**
 * RFC 6979 §3.2 nonce with HMAC-SHA256. `d` goes through int2octets unreduced, as in
 * libgcrypt (its own Ed25519 keys have d ≥ n), and `extraLoops` skips that many
 * candidates, which libgcrypt uses when a nonce gave r = 0 or s = 0.
 */
function deterministicNonce(d: bigint, digest: Uint8Array, extraLoops: number): bigint {
  const x = bigintToBytes(d, ORDER_BYTES);
  let h = bitsToInt(digest);
  if (h >= ED25519_ORDER) h -= ED25519_ORDER;
  const h1 = bigintToBytes(h, ORDER_BYTES);
  let v: Uint8Array = new Uint8Array(32).fill(1);
  let k: Uint8Array = new Uint8Array(32);
  k = hmac(k, v, Uint8Array.of(0), x, h1);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(1), x, h1);
  v = hmac(k, v);
  let loops = extraLoops;
  for (;;) {
    // One HMAC block (256 bits) already covers qlen = 253.
    v = hmac(k, v);
    const candidate = bitsToInt(v);
    if (candidate > 0n && candidate < ED25519_ORDER && loops-- === 0) return candidate;
    k = hmac(k, v, Uint8Array.of(0));
    v = hmac(k, v);
  }
}

function truncatedDigest(digest: Uint8Array): bigint {
  if (digest.length !== 32) {
    throw new FormatError(
      "guix signature",
      `expected a 32-byte SHA-256 digest, got ${digest.length}`,
    );
  }
  return bitsToInt(digest);
}

/**
 * Signs a SHA-256 digest with the secret scalar `d` (any positive integer below 2^256;
 * it is used mod n in the arithmetic). Deterministic: the same inputs give the same
 * signature, equal to libgcrypt's `(data (flags rfc6979) (hash sha256 …))` signature.
 */
export function signEcdsaEd25519(digest: Uint8Array, d: bigint): EcdsaSignature {
  const e = truncatedDigest(digest);
  const scalar = mod(d, ED25519_ORDER);
  if (scalar === 0n || d >= 1n << 256n) {
    throw new FormatError("guix key", "the secret scalar d is zero mod n or wider than 256 bits");
  }
  for (let extraLoops = 0; ; extraLoops++) {
    const k = deterministicNonce(d, digest, extraLoops);
    const r = mod(Point.BASE.multiply(k).toAffine().x, ED25519_ORDER);
    if (r === 0n) continue;
    const s = mod(invert(k) * (e + r * scalar), ED25519_ORDER);
    if (s === 0n) continue;
    return { r, s };
  }
}

/**
 * Verifies an ECDSA signature over a SHA-256 digest against the 32-byte encoded point
 * `q`: with w = s⁻¹, R = (e·w)·G + (r·w)·Q, valid when x(R) mod n = r. False for a
 * malformed `q` or out-of-range `r`, `s`.
 */
export function verifyEcdsaEd25519(
  digest: Uint8Array,
  q: Uint8Array,
  signature: EcdsaSignature,
): boolean {
  const { r, s } = signature;
  if (r <= 0n || r >= ED25519_ORDER || s <= 0n || s >= ED25519_ORDER) return false;
  let publicPoint: InstanceType<typeof Point>;
  try {
    publicPoint = Point.fromBytes(q);
  } catch {
    return false;
  }
  if (publicPoint.is0()) return false;
  const e = truncatedDigest(digest);
  const w = invert(s);
  const u1 = mod(e * w, ED25519_ORDER);
  const u2 = mod(r * w, ED25519_ORDER);
  const point = Point.BASE.multiplyUnsafe(u1).add(publicPoint.multiplyUnsafe(u2));
  if (point.is0()) return false;
  return mod(point.toAffine().x, ED25519_ORDER) === r;
}

/** The 32-byte encoding (EdDSA style) of d·G, the public point of a secret scalar. */
export function ed25519PublicPoint(d: bigint): Uint8Array {
  const scalar = mod(d, ED25519_ORDER);
  if (scalar === 0n) throw new FormatError("guix key", "the secret scalar d is zero mod n");
  return Point.BASE.multiply(scalar).toBytes();
}
