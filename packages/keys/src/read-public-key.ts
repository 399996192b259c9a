import { type PublicKey, parsePublicKey } from "./public-key.ts";
import { readKeyFile } from "./read-key-file.ts";

/**
 * Reads a public key file (default `/etc/kiln/signing-key.pub`): a Guix S-expression or
 * a Nix `name:base64` key.
 * @example readPublicKey("/etc/kiln/signing-key.pub").q.length // 32
 */
export function readPublicKey(file: string): PublicKey {
  return parsePublicKey(readKeyFile(file, "public"));
}
