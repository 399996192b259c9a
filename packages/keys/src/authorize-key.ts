/** `kiln archive --authorize`: add a public key to the ACL, once. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { aclEntry, aclEntryKey, formatAcl, parseAclEntries } from "./acl.ts";
import { parsePublicKey } from "./public-key.ts";
import { readAclText } from "./read-acl.ts";
import { writeFileAtomic } from "./write-file-atomic.ts";

/** What `authorizeKey` did. */
export interface AuthorizeResult {
  /** The key's 32-byte point. */
  readonly q: Uint8Array;
  /** False when the key was already in the ACL (the file is then left untouched). */
  readonly added: boolean;
}

/**
 * Adds a public key, given as a Guix S-expression or a Nix `name:base64` key, to the ACL
 * file (creating it and its directory when missing). The file is rewritten atomically,
 * keeping every existing entry; a key already present is not added twice. Nix names are
 * not recorded: an ACL trusts keys, not names (see `trustedKeysForNarinfo`).
 * @example authorizeKey("/etc/kiln/acl", "cache-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=")
 */
export function authorizeKey(aclFile: string, keyText: string): AuthorizeResult {
  const { q } = parsePublicKey(keyText);
  const text = readAclText(aclFile);
  const entries = text === undefined ? [] : parseAclEntries(text);
  if (entries.some((entry) => Buffer.from(aclEntryKey(entry) ?? []).equals(q))) {
    return { q, added: false };
  }
  mkdirSync(dirname(aclFile), { recursive: true, mode: 0o755 });
  writeFileAtomic(aclFile, formatAcl([...entries, aclEntry(q)]), { mode: 0o644 });
  return { q, added: true };
}
