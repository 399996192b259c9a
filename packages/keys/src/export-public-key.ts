/** Printing the host's public key for clients: Nix's `name:base64` or Guix's S-expression. */
import { hostname as osHostname } from "node:os";
import { formatGuixPublicKey } from "@kiln/formats/guix-key";
import { toBase64 } from "@kiln/formats/hash";
import { FormatError } from "@kiln/formats/kiln-error";
import type { PublicKey } from "./public-key.ts";

export type KeyFormat = "nix" | "guix";

/**
 * The Nix key name Kiln uses when none is given: `kiln-<hostname>-1`, after
 * cache.nixos.org's `<host>-<generation>` convention, so that a rotated key can be
 * `-2` and both can be trusted during the change. Characters Nix's
 * `trusted-public-keys` list cannot hold (`:` and whitespace) become `-`.
 * @example defaultKeyName("farm.example.org") // "kiln-farm.example.org-1"
 */
export function defaultKeyName(hostname: string = osHostname()): string {
  return `kiln-${hostname.replace(/[:\s]/g, "-") || "localhost"}-1`;
}

/**
 * The public key as a Nix client wants it in `trusted-public-keys` (`nix`, no newline),
 * or as `signing-key.pub` text for `guix archive --authorize` (`guix`, ends with a
 * newline). The Nix name is `options.name`, else the name the key was read with, else
 * `defaultKeyName()`.
 * @example exportPublicKey(readPublicKey("/etc/kiln/signing-key.pub"), "nix") // "kiln-farm-1:…="
 */
export function exportPublicKey(
  key: PublicKey | Uint8Array,
  format: KeyFormat,
  options: { name?: string } = {},
): string {
  const q = key instanceof Uint8Array ? key : key.q;
  if (format === "guix") return formatGuixPublicKey(q);
  const name =
    options.name ?? (key instanceof Uint8Array ? undefined : key.nixName) ?? defaultKeyName();
  if (name === "" || /[:\s]/.test(name)) {
    throw new FormatError(
      "nix key",
      `key name ${JSON.stringify(name)} must be non-empty without ':' or spaces`,
    );
  }
  return `${name}:${toBase64(q)}`;
}
