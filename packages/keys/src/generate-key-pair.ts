/**
 * `kiln archive --generate-key`: a fresh Ed25519 key pair in Guix's file forms. The secret
 * file holds q and d, where d is EdDSA's clamped scalar of a random seed, so q is at the
 * same time the Guix public key and the Nix one (formats' guix-key.ts).
 */
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import {
  formatGuixPublicKey,
  formatGuixSecretKey,
  generateGuixKeyPair,
} from "@kiln/formats/guix-key";
import { KeysError } from "./keys-error.ts";
import type { SigningKey } from "./signing-key.ts";
import { writeFileAtomic } from "./write-file-atomic.ts";

export interface KeyPairFiles {
  /** Default `/etc/kiln/signing-key.pub` (the CLI passes it). */
  readonly publicKeyFile: string;
  /** Default `/etc/kiln/signing-key.sec`, written mode 0400. */
  readonly secretKeyFile: string;
}

function refuseExisting(files: KeyPairFiles): void {
  for (const file of [files.secretKeyFile, files.publicKeyFile]) {
    if (existsSync(file)) {
      throw new KeysError("EXISTS", `${file} already exists; not overwriting a signing key`, {
        hint: "move the old pair away first if you really mean to replace it (clients trust it)",
      });
    }
  }
}

/**
 * Generates a key pair and writes both files, creating their directories. Refuses when
 * either file exists: replacing a key silently would make every client that trusts
 * the old one reject this host. Each file appears whole or not at all; the secret one
 * is never readable by others, and the public one is written only once the secret one
 * is in place.
 * @example generateKeyPair({ publicKeyFile: "/etc/kiln/signing-key.pub", secretKeyFile: "/etc/kiln/signing-key.sec" })
 */
export function generateKeyPair(files: KeyPairFiles): SigningKey {
  refuseExisting(files);
  const key = generateGuixKeyPair();
  mkdirSync(dirname(files.secretKeyFile), { recursive: true, mode: 0o755 });
  mkdirSync(dirname(files.publicKeyFile), { recursive: true, mode: 0o755 });
  try {
    writeFileAtomic(files.secretKeyFile, formatGuixSecretKey(key), {
      mode: 0o400,
      exclusive: true,
    });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") refuseExisting(files);
    throw cause;
  }
  try {
    writeFileAtomic(files.publicKeyFile, formatGuixPublicKey(key.q), {
      mode: 0o644,
      exclusive: true,
    });
  } catch (cause) {
    // Someone created the public file meanwhile: take our secret key back, leave theirs.
    unlinkSync(files.secretKeyFile);
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") refuseExisting(files);
    throw cause;
  }
  return key;
}
