/**
 * Ed25519 (EdDSA) signatures made from the secret scalar d instead of the 32-byte seed.
 *
 * A Guix secret key file holds q and d but not the seed that standard EdDSA signing
 * starts from (the seed gives both d and the nonce prefix). A verifier, however, only
 * checks S·G = R + H(R ‖ A ‖ M)·A, so any secret nonce r works. Kiln derives it
 * deterministically from d and the message, r = SHA-512(tag ‖ d ‖ M) mod L, as RFC 8032
 * derives it from the seed's second half: the same message always gets the same
 * signature, and no random source can leak the key through a repeated nonce. The result
 * is an ordinary Ed25519 signature that Nix (libsodium), OpenSSL and any RFC 8032
 * verifier accept; only its bytes differ from a seed-based signer's.
 */
import { createHash } from "node:crypto";
import { ED25519_ORDER, ed25519PublicPoint } from "@kiln/formats/ecdsa-ed25519";
import type { GuixKeyPair } from "@kiln/formats/guix-key";

/** Domain separation: this hash is used for nothing else. */
const NONCE_TAG = Buffer.from("kiln ed25519 scalar nonce v1\0", "utf8");

function littleEndianToBigint(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString("hex") || "0"}`);
}

function bigintToLittleEndian(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, "0"), "hex").reverse();
}

function sha512(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * Signs `message` with the key pair (q = d·G), returning the 64-byte R ‖ S signature.
 * @example verify(null, message, ed25519PublicKeyObject(key.q), signEd25519WithScalar(message, key)) // true
 */
export function signEd25519WithScalar(
  message: Uint8Array,
  key: Pick<GuixKeyPair, "q" | "d">,
): Uint8Array {
  const secret = bigintToLittleEndian(key.d % ED25519_ORDER);
  let r = 0n;
  // r = 0 has probability 2^-252; the counter only exists so the loop is total.
  for (let counter = 0; r === 0n; counter++) {
    r =
      littleEndianToBigint(sha512(NONCE_TAG, Uint8Array.of(counter), secret, message)) %
      ED25519_ORDER;
  }
  const encodedR = ed25519PublicPoint(r);
  const h = littleEndianToBigint(sha512(encodedR, key.q, message)) % ED25519_ORDER;
  const s = (r + h * (key.d % ED25519_ORDER)) % ED25519_ORDER;
  return new Uint8Array(Buffer.concat([encodedR, bigintToLittleEndian(s)]));
}
