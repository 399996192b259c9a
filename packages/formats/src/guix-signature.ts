/**
 * The `Signature:` line of `guix publish` narinfos: `1;<host>;<base64 of a libgcrypt
 * advanced-form S-expression>` holding the SHA-256 of the narinfo text up to (not
 * including) the first `Signature:`, the ECDSA (r, s) and the signer's public key.
 * Verification follows Guix's `narinfo-sha256` and `signature-case`; signing reproduces
 * `guix publish` (and libgcrypt) byte for byte.
 */
import { createHash } from "node:crypto";
import {
  bytesToBigint,
  type EcdsaSignature,
  signEcdsaEd25519,
  verifyEcdsaEd25519,
} from "./ecdsa-ed25519.ts";
import { type GuixKeyPair, guixPublicKeyFromSexp } from "./guix-key.ts";
import { fromBase64, toBase64 } from "./hash.ts";
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

/** Outcome of checking a Guix narinfo signature; `reason` says why it failed. */
export type GuixSignatureCheck =
  | { readonly valid: true; readonly q: Uint8Array; readonly hostname: string }
  | { readonly valid: false; readonly reason: string; readonly hostname?: string };

const SIGNATURE_KEY = "Signature:";
/** Fields that must be covered by the signature, or the narinfo counts as unsigned. */
const SIGNED_FIELDS = ["StorePath", "NarHash", "References"];

function missingSignedFields(prefix: string): string[] {
  const keys = new Set(
    prefix.split("\n").flatMap((line) => {
      const colon = line.indexOf(": ");
      return colon > 0 ? [line.slice(0, colon)] : [];
    }),
  );
  return SIGNED_FIELDS.filter((key) => !keys.has(key));
}

/** SHA-256 of the text Guix signs: everything before the first `Signature:`. */
export function guixNarinfoDigest(signedPart: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(signedPart, "utf8").digest());
}

function atom(list: readonly Sexp[] | undefined, index: number): Uint8Array | undefined {
  const value = list?.[index];
  return value instanceof Uint8Array ? value : undefined;
}

/** Pulls digest, (r, s) and q out of a `(signature (data …) (sig-val …) (public-key …))`. */
function readSignatureSexp(sexp: Sexp): {
  hash: Uint8Array;
  signature: EcdsaSignature;
  q: Uint8Array;
} {
  if (!isSexpList(sexp) || sexpText(sexp[0]) !== "signature") {
    throw new FormatError("guix signature", "the payload is not a (signature …) S-expression");
  }
  const data = findSexp(sexp, "data");
  const hash = data && findSexp(data, "hash");
  if (!hash || sexpText(hash[1]) !== "sha256" || atom(hash, 2)?.length !== 32) {
    throw new FormatError("guix signature", "no (data … (hash sha256 #…#)) with a 32-byte digest");
  }
  const sigVal = findSexp(sexp, "sig-val");
  const ecdsa = sigVal && findSexp(sigVal, "ecdsa");
  if (!ecdsa)
    throw new FormatError("guix signature", "no (sig-val (ecdsa …)); only ECDSA is supported");
  const r = atom(findSexp(ecdsa, "r"), 1);
  const s = atom(findSexp(ecdsa, "s"), 1);
  if (!r || !s) throw new FormatError("guix signature", "(sig-val (ecdsa …)) lacks r or s");
  const publicKey = findSexp(sexp, "public-key");
  if (!publicKey) throw new FormatError("guix signature", "no (public-key …) in the signature");
  return {
    hash: atom(hash, 2)!,
    signature: { r: bytesToBigint(r), s: bytesToBigint(s) },
    q: guixPublicKeyFromSexp(publicKey),
  };
}

/**
 * Verifies the `Signature:` of a narinfo text against an ACL of Guix public keys (their
 * 32-byte q). Never throws for a bad signature: the result says what is wrong.
 * @example verifyGuixNarinfo(text, [parseGuixPublicKey(signingKeyPub)]).valid // true
 */
export function verifyGuixNarinfo(
  narinfoText: string,
  aclKeys: readonly Uint8Array[],
): GuixSignatureCheck {
  const start = narinfoText.indexOf(SIGNATURE_KEY);
  if (start < 0) return { valid: false, reason: "no Signature: line" };
  const signedPart = narinfoText.slice(0, start);
  const missing = missingSignedFields(signedPart);
  if (missing.length > 0) {
    return { valid: false, reason: `${missing.join(", ")} not covered by the signature` };
  }
  const end = narinfoText.indexOf("\n", start);
  const line = narinfoText.slice(start + SIGNATURE_KEY.length, end < 0 ? undefined : end);
  if (!line.startsWith(" ")) return { valid: false, reason: "malformed Signature: line" };
  const parts = line.slice(1).split(";");
  if (parts.length !== 3) {
    return { valid: false, reason: "Signature: is not of the form <version>;<host>;<base64>" };
  }
  const [version, hostname, payload] = parts;
  if (version !== "1") {
    return {
      valid: false,
      reason: `unsupported signature version ${JSON.stringify(version)}`,
      hostname,
    };
  }
  let parsed: ReturnType<typeof readSignatureSexp>;
  try {
    parsed = readSignatureSexp(parseSexp(fromBase64(payload)));
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return { valid: false, reason: `corrupt signature: ${error.message}`, hostname };
  }
  const digest = guixNarinfoDigest(signedPart);
  if (!Buffer.from(parsed.hash).equals(digest)) {
    return {
      valid: false,
      reason: "hash mismatch: the narinfo text was changed after signing",
      hostname,
    };
  }
  if (!aclKeys.some((key) => Buffer.from(key).equals(parsed.q))) {
    return {
      valid: false,
      reason: `unauthorized key ${Buffer.from(parsed.q).toString("hex").toUpperCase()}`,
      hostname,
    };
  }
  if (!verifyEcdsaEd25519(digest, parsed.q, parsed.signature)) {
    return { valid: false, reason: "invalid signature: (r, s) does not verify", hostname };
  }
  return { valid: true, q: parsed.q, hostname };
}

function mpi(value: bigint): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/**
 * The S-expression `guix publish` signs with, in libgcrypt's advanced rendering
 * (r and s as minimal unsigned big-endian numbers, like libgcrypt's `%M`).
 */
export function guixSignatureSexp(digest: Uint8Array, key: GuixKeyPair): Uint8Array {
  const { r, s } = signEcdsaEd25519(digest, key.d);
  const a = sexpAtom;
  const sexp: Sexp = [
    a("signature"),
    [a("data"), [a("flags"), a("rfc6979")], [a("hash"), a("sha256"), digest]],
    [a("sig-val"), [a("ecdsa"), [a("r"), mpi(r)], [a("s"), mpi(s)]]],
    [a("public-key"), [a("ecc"), [a("curve"), a("Ed25519")], [a("q"), key.q]]],
  ];
  return printSexp(sexp);
}

/**
 * Appends `Signature: 1;<hostname>;<base64>` to a narinfo text that ends with a newline
 * and has no signature yet. Deterministic (RFC 6979). Nix `Sig:` lines, if any, must
 * already be in the text: the Guix signature covers everything before it.
 */
export function signGuixNarinfo(
  narinfoText: string,
  options: GuixKeyPair & { readonly hostname: string },
): string {
  if (narinfoText.includes(SIGNATURE_KEY)) {
    throw new FormatError("guix signature", "the narinfo already contains a Signature: line");
  }
  if (!narinfoText.endsWith("\n")) {
    throw new FormatError("guix signature", "the narinfo text must end with a newline");
  }
  const missing = missingSignedFields(narinfoText);
  if (missing.length > 0) {
    throw new FormatError("guix signature", `the narinfo lacks ${missing.join(", ")}`);
  }
  if (!/^[^;\s]+$/.test(options.hostname)) {
    throw new FormatError(
      "guix signature",
      `hostname ${JSON.stringify(options.hostname)} must be non-empty without ';' or spaces`,
    );
  }
  const payload = guixSignatureSexp(guixNarinfoDigest(narinfoText), options);
  return `${narinfoText}${SIGNATURE_KEY} 1;${options.hostname};${toBase64(payload)}\n`;
}
