/**
 * Guix signing keys: libgcrypt S-expressions for ECDSA over the Ed25519 curve,
 * `(public-key (ecc (curve Ed25519) (q #…#)))` and
 * `(private-key (ecc (curve Ed25519) (q #…#) (d #…#)))`, q being the 32-byte EdDSA
 * encoding of the point d·G.
 *
 * One Kiln key serves Nix and Guix. A Nix key is an EdDSA seed; EdDSA's secret scalar
 * is the clamped first half of SHA-512(seed), and its public key is that scalar times
 * G. Using that very scalar as the Guix ECDSA d makes the Guix q byte-identical to the
 * Nix public key. libgcrypt 1.10 builds its own Ed25519 ECDSA keys the same way
 * (d has bit 254 set and its low three bits clear), so such a d is an ordinary Guix key.
 */
import { createHash, randomBytes } from "node:crypto";
import { bytesToBigint, ed25519PublicPoint } from "./ecdsa-ed25519.ts";
import { FormatError } from "./kiln-error.ts";
import {
  findSexp,
  isSexpList,
  parseSexp,
  printSexp,
  type Sexp,
  sexpAtom,
  sexpText,
} from "./sexp.ts";

/** A Guix ECDSA key pair: q (32 bytes) and the secret scalar d. */
export interface GuixKeyPair {
  readonly q: Uint8Array;
  readonly d: bigint;
}

function field(list: readonly Sexp[], name: string, what: string): Uint8Array {
  const entry = list.find((item) => isSexpList(item) && sexpText(item[0]) === name);
  const value = entry && isSexpList(entry) ? entry[1] : undefined;
  if (!(value instanceof Uint8Array)) {
    throw new FormatError("guix key", `${what} has no (${name} …) value`);
  }
  return value;
}

/**
 * Reads the `(ecc …)` part of a key: the curve must be Ed25519 and the key ECDSA (no
 * `(flags eddsa)`); returns the list. RSA keys are refused: Kiln signs with ECDSA only.
 */
function eccParameters(sexp: Sexp, head: "public-key" | "private-key"): readonly Sexp[] {
  if (!isSexpList(sexp) || sexpText(sexp[0]) !== head) {
    throw new FormatError("guix key", `expected a (${head} …) S-expression`);
  }
  const algorithm = sexp[1];
  if (!isSexpList(algorithm) || sexp.length !== 2) {
    throw new FormatError("guix key", `(${head} …) must hold exactly one algorithm list`);
  }
  const name = sexpText(algorithm[0]);
  if (name !== "ecc" && name !== "ecdsa") {
    throw new FormatError("guix key", `unsupported key algorithm ${JSON.stringify(name)}`, {
      hint: "generate an Ed25519 key with `guix archive --generate-key` (libgcrypt ≥ 1.6)",
    });
  }
  const curve = sexpText(field(algorithm, "curve", `(${head} (${name} …))`));
  if (curve !== "Ed25519") {
    throw new FormatError("guix key", `unsupported curve ${JSON.stringify(curve)}; only Ed25519`);
  }
  const flags = findSexp(algorithm, "flags");
  if (flags?.some((flag) => sexpText(flag) === "eddsa")) {
    throw new FormatError("guix key", "an EdDSA key cannot make Guix (ECDSA) signatures");
  }
  return algorithm;
}

function checkQ(q: Uint8Array): Uint8Array {
  if (q.length !== 32) throw new FormatError("guix key", `q is ${q.length} bytes, not 32`);
  return q;
}

/** The q of a `(public-key …)` S-expression, e.g. the one inside a narinfo signature. */
export function guixPublicKeyFromSexp(sexp: Sexp): Uint8Array {
  return checkQ(field(eccParameters(sexp, "public-key"), "q", "(public-key (ecc …))"));
}

/**
 * Parses a public key file (`/etc/guix/signing-key.pub`, advanced or canonical form)
 * into its 32-byte q.
 * @example parseGuixPublicKey("(public-key \n (ecc \n  (curve Ed25519)\n  (q #8D15…94#)\n  )\n )\n")
 */
export function parseGuixPublicKey(input: string | Uint8Array): Uint8Array {
  return guixPublicKeyFromSexp(parseSexp(input));
}

/**
 * Parses a secret key file (`/etc/guix/signing-key.sec`). Checks that q = d·G, so a
 * signature made with it always verifies against its q.
 */
export function parseGuixSecretKey(input: string | Uint8Array): GuixKeyPair {
  const ecc = eccParameters(parseSexp(input), "private-key");
  const q = checkQ(field(ecc, "q", "(private-key (ecc …))"));
  const dBytes = field(ecc, "d", "(private-key (ecc …))");
  if (dBytes.length > 33 || (dBytes.length === 33 && dBytes[0] !== 0)) {
    throw new FormatError("guix key", `d is ${dBytes.length} bytes, more than 32`);
  }
  const d = bytesToBigint(dBytes);
  if (d === 0n) throw new FormatError("guix key", "d is zero");
  if (!Buffer.from(ed25519PublicPoint(d)).equals(q)) {
    throw new FormatError("guix key", "q is not d·G: the secret key file is inconsistent");
  }
  return { q, d };
}

/** Minimal big-endian bytes of a positive integer, as libgcrypt prints an MPI. */
function mpiBytes(value: bigint): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  // libgcrypt's standard MPI format adds a zero byte when the top bit is set.
  return new Uint8Array(bytes[0] & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes);
}

function keySexp(head: string, q: Uint8Array, d?: bigint): Sexp {
  const params: Sexp[] = [
    sexpAtom("ecc"),
    [sexpAtom("curve"), sexpAtom("Ed25519")],
    [sexpAtom("q"), checkQ(q)],
  ];
  if (d !== undefined) params.push([sexpAtom("d"), mpiBytes(d)]);
  return [sexpAtom(head), params];
}

/**
 * Writes a public key exactly as `guix archive --generate-key` writes signing-key.pub.
 * @example formatGuixPublicKey(q) // "(public-key \n (ecc \n  (curve Ed25519)\n  (q #…#)\n  )\n )\n"
 */
export function formatGuixPublicKey(q: Uint8Array): string {
  return Buffer.from(printSexp(keySexp("public-key", q), { hexStrings: true })).toString("utf8");
}

/** Writes a secret key as libgcrypt prints `(private-key (ecc (curve Ed25519) (q …) (d …)))`. */
export function formatGuixSecretKey(key: GuixKeyPair): string {
  return Buffer.from(
    printSexp(keySexp("private-key", key.q, key.d), { hexStrings: true }),
  ).toString("utf8");
}

/**
 * The Guix key pair of a 32-byte Ed25519 seed: d is EdDSA's clamped secret scalar
 * (SHA-512(seed)[0..32], little-endian, low 3 bits cleared, bit 254 set, bit 255
 * cleared), so q equals the Nix/EdDSA public key of the same seed.
 */
export function guixKeyPairFromSeed(seed: Uint8Array): GuixKeyPair {
  if (seed.length !== 32) throw new FormatError("guix key", "an Ed25519 seed is 32 bytes");
  const half = new Uint8Array(createHash("sha512").update(seed).digest().subarray(0, 32));
  half[0] &= 0xf8;
  half[31] &= 0x7f;
  half[31] |= 0x40;
  const d = bytesToBigint(half.reverse());
  return { q: ed25519PublicPoint(d), d };
}

/** A fresh key pair from a random seed (as libgcrypt 1.10 makes them). */
export function generateGuixKeyPair(): GuixKeyPair {
  return guixKeyPairFromSeed(new Uint8Array(randomBytes(32)));
}
