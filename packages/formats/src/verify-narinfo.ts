/**
 * Checks a narinfo against trusted keys of either world, for `kiln narinfo verify` and
 * for substituters: Nix `Sig:` lines with Nix keys (looked up by name), the Guix
 * `Signature:` line with Guix keys (an ACL). A Nix public key also counts as a Guix ACL
 * entry: Kiln derives both from one Ed25519 key, so its q is the Nix key's 32 bytes.
 */
import { guixPublicKeyFromSexp } from "./guix-key.ts";
import { verifyGuixNarinfo } from "./guix-signature.ts";
import { FormatError } from "./kiln-error.ts";
import { narinfoFingerprint } from "./narinfo-fingerprint.ts";
import { parseNixPublicKey, verifyNix } from "./nix-signature.ts";
import { parseNarinfo } from "./parse-narinfo.ts";
import { findSexp, isSexpList, parseSexp, sexpText } from "./sexp.ts";

/** A key given to the verifier. */
export type TrustedKey =
  | { readonly kind: "nix"; readonly name: string; readonly key: Uint8Array }
  | { readonly kind: "guix"; readonly q: Uint8Array };

/** Result of `verifyNarinfo`. */
export interface NarinfoVerification {
  /** True when at least one signature verifies with a trusted key. */
  readonly valid: boolean;
  /** What verified: `Sig <keyname>` or `Signature <hostname>`. */
  readonly validBy: readonly string[];
  /** Why each other signature failed, or why nothing could be checked. */
  readonly failures: readonly string[];
}

/**
 * Reads a key file: a Guix public key (`signing-key.pub`), a Guix ACL (`/etc/guix/acl`,
 * every entry), or one or more Nix public keys (`name:base64`, separated by
 * whitespace as in `trusted-public-keys`).
 * @example parseTrustedKeys("cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=")
 */
export function parseTrustedKeys(text: string): TrustedKey[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("(") || trimmed.startsWith("{")) {
    const sexp = parseSexp(trimmed);
    if (isSexpList(sexp) && sexpText(sexp[0]) === "acl") {
      return sexp.slice(1).map((entry) => {
        const key = isSexpList(entry) ? findSexp(entry, "public-key") : undefined;
        if (!key) throw new FormatError("guix key", "an ACL entry has no (public-key …)");
        return { kind: "guix", q: guixPublicKeyFromSexp(key) };
      });
    }
    if (isSexpList(sexp) && sexpText(sexp[0]) === "private-key") {
      throw new FormatError("guix key", "this is a secret key; give the public key", {
        hint: "use signing-key.pub, not signing-key.sec",
      });
    }
    return [{ kind: "guix", q: guixPublicKeyFromSexp(sexp) }];
  }
  const words = trimmed.split(/\s+/).filter((word) => word !== "");
  if (words.length === 0) throw new FormatError("nix key", "the key file is empty");
  return words.map((word) => ({ kind: "nix", ...parseNixPublicKey(word) }));
}

/**
 * Verifies the signatures of a narinfo text. Never throws for bad input: a malformed
 * narinfo is reported as a failure.
 * @example verifyNarinfo(text, parseTrustedKeys(keyFile)) // { valid: true, validBy: ["Sig test-1"], failures: [] }
 */
export function verifyNarinfo(
  text: string,
  keys: readonly TrustedKey[],
  options: { storeDir?: string } = {},
): NarinfoVerification {
  let narinfo: ReturnType<typeof parseNarinfo>;
  try {
    narinfo = parseNarinfo(text, options);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return { valid: false, validBy: [], failures: [`malformed narinfo: ${error.message}`] };
  }
  const validBy: string[] = [];
  const failures: string[] = [];
  if (narinfo.sigs.length === 0 && narinfo.signature === undefined) {
    failures.push("unsigned: no Sig: or Signature: line");
  }
  const nixKeys = keys.flatMap((key) => (key.kind === "nix" ? [key] : []));
  if (narinfo.sigs.length > 0) {
    const storeDir = narinfo.storePath.slice(0, narinfo.storePath.lastIndexOf("/"));
    let fingerprint: string | undefined;
    try {
      fingerprint = narinfoFingerprint(narinfo, { storeDir });
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      failures.push(`Sig: ${error.message}`);
    }
    for (const sig of fingerprint === undefined ? [] : narinfo.sigs) {
      // A Guix ACL holds keys without Nix names. Since a Kiln key signs both ways, a Sig:
      // whose name no Nix key has is also checked against the Guix keys, under its name.
      const name = sig.slice(0, Math.max(0, sig.indexOf(":")));
      const named = nixKeys.some((key) => key.name === name)
        ? nixKeys
        : [
            ...nixKeys,
            ...keys.flatMap((key) =>
              key.kind === "guix" && name !== "" ? [{ name, key: key.q }] : [],
            ),
          ];
      const check = verifyNix(named, fingerprint!, sig);
      if (check.valid) validBy.push(`Sig ${check.keyName}`);
      else failures.push(`Sig ${check.keyName ?? JSON.stringify(sig)}: ${check.reason}`);
    }
  }
  if (narinfo.signature !== undefined) {
    const acl = keys.map((key) => (key.kind === "guix" ? key.q : key.key));
    const check = verifyGuixNarinfo(text, acl);
    if (check.valid) validBy.push(`Signature ${check.hostname}`);
    else failures.push(`Signature ${check.hostname ?? ""}: ${check.reason}`.replace(" :", ":"));
  }
  return { valid: validBy.length > 0, validBy, failures };
}
