import { readFileSync } from "node:fs";
import { parseAcl } from "./acl.ts";
import { KeysError } from "./keys-error.ts";

/**
 * The keys of an ACL file (default `/etc/kiln/acl`). A missing file is an empty ACL, as
 * for Guix: a fresh host trusts nobody.
 * @example readAcl("/etc/kiln/acl").length // number of authorised keys
 */
export function readAcl(file: string): Uint8Array[] {
  return parseAcl(readAclText(file) ?? "(acl)");
}

/** The ACL file's text, or undefined when it does not exist. */
export function readAclText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new KeysError("UNREADABLE", `cannot read the ACL ${file} (${code})`, { cause });
  }
}
