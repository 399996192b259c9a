/**
 * One narinfo, signed for both worlds: a Nix `Sig:` line over Nix's fingerprint, then a
 * Guix `Signature:` line over the text above it (so the Sig: line is covered too, and
 * Guix clients, which check the text and not the fingerprint, also see it signed).
 */
import { signGuixNarinfo } from "@kiln/formats/guix-signature";
import { toBase64 } from "@kiln/formats/hash";
import { FormatError } from "@kiln/formats/kiln-error";
import { narinfoFingerprint } from "@kiln/formats/narinfo-fingerprint";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { defaultKeyName } from "./export-public-key.ts";
import { signEd25519WithScalar } from "./sign-ed25519-with-scalar.ts";
import type { SigningKey } from "./signing-key.ts";

export interface SignNarinfoOptions {
  /** The host name in `Signature: 1;<hostname>;…` (informational for Guix clients). */
  readonly hostname: string;
  /** The Nix key name in `Sig: <keyName>:…`; default: the key's own, else `kiln-<hostname>-1`. */
  readonly keyName?: string;
}

/**
 * Appends `Sig:` and `Signature:` lines to an unsigned (by this key) narinfo text ending
 * with a newline. Other keys' Sig: lines may already be there and are kept.
 * @example signNarinfoBoth(printNarinfo(info, { flavour: "guix" }), key, { hostname: "farm" })
 */
export function signNarinfoBoth(
  narinfoText: string,
  secretKey: SigningKey,
  options: SignNarinfoOptions,
): string {
  const narinfo = parseNarinfo(narinfoText);
  if (narinfo.signature !== undefined) {
    throw new FormatError("narinfo", "already has a Signature: line; sign the unsigned text");
  }
  const keyName = options.keyName ?? secretKey.nixName ?? defaultKeyName(options.hostname);
  if (keyName === "" || /[:\s]/.test(keyName)) {
    throw new FormatError(
      "narinfo",
      `key name ${JSON.stringify(keyName)} must be non-empty without ':' or spaces`,
    );
  }
  if (narinfo.sigs.some((sig) => sig.startsWith(`${keyName}:`))) {
    throw new FormatError("narinfo", `already has a Sig: line by key ${JSON.stringify(keyName)}`);
  }
  const storeDir = narinfo.storePath.slice(0, narinfo.storePath.lastIndexOf("/"));
  const fingerprint = narinfoFingerprint(narinfo, { storeDir });
  const signature = signEd25519WithScalar(Buffer.from(fingerprint, "utf8"), secretKey);
  const withSig = `${narinfoText}Sig: ${keyName}:${toBase64(signature)}\n`;
  return signGuixNarinfo(withSig, { q: secretKey.q, d: secretKey.d, hostname: options.hostname });
}
