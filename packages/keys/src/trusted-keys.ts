/**
 * The ACL as the verifier (formats' `verifyNarinfo`) wants it. Guix `Signature:` lines
 * are checked against keys, which the ACL has. Nix `Sig:` lines name their key and Nix
 * looks it up by that name; the ACL, being Guix's, has no names. Trust is by key all the
 * same: `trustedKeysForNarinfo` gives each Sig: name the ACL key whose signature it is,
 * so a cache signed only by Nix (`nix copy --to …?secret-key=…`) is accepted once its
 * public key is authorised, whatever it is called.
 */
import { createPublicKey, verify } from "node:crypto";
import { fromBase64 } from "@kiln/formats/hash";
import { FormatError } from "@kiln/formats/kiln-error";
import { narinfoFingerprint } from "@kiln/formats/narinfo-fingerprint";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import type { TrustedKey } from "@kiln/formats/verify-narinfo";

// DER prefix of an SPKI Ed25519 public key; the raw 32 bytes follow.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * One Guix entry per ACL key (they also verify Kiln's own Sig: lines, which come with a
 * Signature: line by the same key). For Sig:-only narinfos use `trustedKeysForNarinfo`.
 * @example verifyNarinfo(text, aclTrustedKeys(readAcl("/etc/kiln/acl")))
 */
export function aclTrustedKeys(acl: readonly Uint8Array[]): TrustedKey[] {
  return acl.map((q) => ({ kind: "guix", q }));
}

function sigVerifies(fingerprint: string, signature: Uint8Array, q: Uint8Array): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, q]),
      format: "der",
      type: "spki",
    });
    return verify(null, Buffer.from(fingerprint, "utf8"), key, signature);
  } catch {
    return false; // q is not a point: this key cannot have made the signature.
  }
}

/**
 * The trusted keys for one narinfo: `aclTrustedKeys(acl)`, plus, for each `Sig:` line,
 * a Nix key under that line's name holding the ACL key that made it (when one did).
 * A malformed narinfo gets the plain list: `verifyNarinfo` reports what is wrong.
 * @example verifyNarinfo(text, trustedKeysForNarinfo(readAcl(aclFile), text)).valid
 */
export function trustedKeysForNarinfo(
  acl: readonly Uint8Array[],
  narinfoText: string,
): TrustedKey[] {
  const keys = aclTrustedKeys(acl);
  let fingerprint: string;
  let sigs: readonly string[];
  try {
    const narinfo = parseNarinfo(narinfoText);
    sigs = narinfo.sigs;
    if (sigs.length === 0) return keys;
    const storeDir = narinfo.storePath.slice(0, narinfo.storePath.lastIndexOf("/"));
    fingerprint = narinfoFingerprint(narinfo, { storeDir });
  } catch (error) {
    if (error instanceof FormatError) return keys;
    throw error;
  }
  const named = new Set<string>();
  for (const sig of sigs) {
    const colon = sig.indexOf(":");
    const name = sig.slice(0, colon);
    if (colon <= 0 || named.has(name)) continue;
    let signature: Uint8Array;
    try {
      signature = fromBase64(sig.slice(colon + 1));
    } catch {
      continue;
    }
    if (signature.length !== 64) continue;
    const q = acl.find((candidate) => sigVerifies(fingerprint, signature, candidate));
    if (q) {
      keys.push({ kind: "nix", name, key: q });
      named.add(name);
    }
  }
  return keys;
}
