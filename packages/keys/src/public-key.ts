/**
 * Public keys as Kiln reads them from users: a Guix S-expression (`signing-key.pub`, an
 * ACL entry's `(public-key …)`) or a Nix `name:base64` key. Both name the same thing, a
 * 32-byte Ed25519 point q; the Nix form adds a name that Nix clients look keys up by.
 */
import { parseGuixPublicKey } from "@kiln/formats/guix-key";
import { FormatError } from "@kiln/formats/kiln-error";
import { parseNixPublicKey } from "@kiln/formats/nix-signature";

/** A public key: its point, and its Nix name when it came in Nix's form. */
export interface PublicKey {
  readonly q: Uint8Array;
  readonly nixName?: string;
}

/**
 * Parses public key text in either form. A secret key is refused with a hint, so that it
 * is never copied into an ACL or printed by mistake.
 * @example parsePublicKey("cache-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=").nixName // "cache-1"
 */
export function parsePublicKey(text: string): PublicKey {
  const trimmed = text.trim();
  if (trimmed.startsWith("(") || trimmed.startsWith("{")) {
    if (/^\(\s*(?:\d+:)?private-key/.test(trimmed)) {
      throw new FormatError("guix key", "this is a secret key; give the public key", {
        hint: "use signing-key.pub, not signing-key.sec",
      });
    }
    return { q: parseGuixPublicKey(trimmed) };
  }
  if (/\s/.test(trimmed)) {
    throw new FormatError("nix key", "expected one public key, found several words");
  }
  const key = parseNixPublicKey(trimmed);
  return { q: key.key, nixName: key.name };
}
