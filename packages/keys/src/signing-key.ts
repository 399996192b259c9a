/**
 * The signing key of a Kiln host. It is held as Guix holds it (q and the secret scalar
 * d, see formats' guix-key.ts) because that is what the key file stores; from d alone
 * Kiln makes both Guix ECDSA signatures and Nix Ed25519 signatures
 * (`signEd25519WithScalar`).
 */
import { type GuixKeyPair, guixKeyPairFromSeed, parseGuixSecretKey } from "@kiln/formats/guix-key";
import { FormatError } from "@kiln/formats/kiln-error";
import { parseNixSecretKey } from "@kiln/formats/nix-signature";
import { readKeyFile } from "./read-key-file.ts";

/** A secret key: q, d, and the Nix name when it was read from a Nix secret key file. */
export interface SigningKey extends GuixKeyPair {
  readonly nixName?: string;
}

/**
 * Parses secret key text: Guix's `(private-key (ecc (curve Ed25519) (q …) (d …)))`, or a
 * Nix secret key `name:base64(seed ‖ public key)` (as `nix-store
 * --generate-binary-cache-key` writes), whose d is derived from the seed as EdDSA does,
 * so its Guix q equals its Nix public key.
 */
export function parseSigningKey(text: string): SigningKey {
  const trimmed = text.trim();
  if (trimmed.startsWith("(") || trimmed.startsWith("{")) return parseGuixSecretKey(trimmed);
  if (!/^[^:\s]+:[A-Za-z0-9+/=]+$/.test(trimmed)) {
    throw new FormatError("key", "neither a Guix (private-key …) nor a Nix name:base64 secret key");
  }
  const nix = parseNixSecretKey(trimmed);
  return { ...guixKeyPairFromSeed(nix.seed), nixName: nix.name };
}

/**
 * Reads a secret key file (default `/etc/kiln/signing-key.sec`) in either form.
 * @example readSecretKey("/etc/kiln/signing-key.sec").q // the 32-byte public key
 */
export function readSecretKey(file: string): SigningKey {
  return parseSigningKey(readKeyFile(file, "secret"));
}
