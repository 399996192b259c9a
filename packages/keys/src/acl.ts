/**
 * The ACL of keys whose signatures this host accepts, in Guix's form
 * (`/etc/guix/acl`, here `/etc/kiln/acl`), so the two files are interchangeable:
 * `(acl (entry (public-key (ecc (curve Ed25519) (q #…#))) (tag (guix import))) …)`,
 * printed as libgcrypt prints it. Entries carry no names: trust is by key.
 */
import { guixPublicKeyFromSexp } from "@kiln/formats/guix-key";
import { FormatError } from "@kiln/formats/kiln-error";
import {
  isSexpList,
  parseSexp,
  printSexp,
  type Sexp,
  sexpAtom,
  sexpText,
} from "@kiln/formats/sexp";

function isImportTag(sexp: Sexp | undefined): boolean {
  if (!sexp || !isSexpList(sexp) || sexpText(sexp[0]) !== "tag" || sexp.length !== 2) return false;
  const tag = sexp[1];
  return (
    isSexpList(tag) &&
    tag.length === 2 &&
    sexpText(tag[0]) === "guix" &&
    sexpText(tag[1]) === "import"
  );
}

/**
 * The entries of ACL text, checked as Guix checks them: each is
 * `(entry <public-key> (tag (guix import)))`. Entries with keys Kiln cannot use (RSA,
 * from an old Guix) are kept, so that rewriting the file does not drop them.
 */
export function parseAclEntries(text: string | Uint8Array): readonly Sexp[] {
  const sexp = parseSexp(text);
  if (!isSexpList(sexp) || sexpText(sexp[0]) !== "acl") {
    throw new FormatError("acl", "expected an (acl …) S-expression");
  }
  const entries = sexp.slice(1);
  entries.forEach((entry, index) => {
    if (
      !isSexpList(entry) ||
      sexpText(entry[0]) !== "entry" ||
      entry.length !== 3 ||
      !isSexpList(entry[1]) ||
      sexpText(entry[1][0]) !== "public-key" ||
      !isImportTag(entry[2])
    ) {
      throw new FormatError(
        "acl",
        `entry ${index + 1} is not (entry (public-key …) (tag (guix import)))`,
      );
    }
  });
  return entries;
}

/** The q of an entry's Ed25519 key, or undefined for a key Kiln cannot verify with. */
export function aclEntryKey(entry: Sexp): Uint8Array | undefined {
  try {
    return guixPublicKeyFromSexp((entry as readonly Sexp[])[1]);
  } catch (error) {
    if (error instanceof FormatError) return undefined;
    throw error;
  }
}

/**
 * Reads ACL text into its usable keys (the 32-byte q of each Ed25519 entry).
 * @example parseAcl("(acl)") // []
 */
export function parseAcl(text: string | Uint8Array): Uint8Array[] {
  return parseAclEntries(text).flatMap((entry) => aclEntryKey(entry) ?? []);
}

/** An ACL entry authorising q for imports, as `guix archive --authorize` makes it. */
export function aclEntry(q: Uint8Array): Sexp {
  const a = sexpAtom;
  return [
    a("entry"),
    [a("public-key"), [a("ecc"), [a("curve"), a("Ed25519")], [a("q"), q]]],
    [a("tag"), [a("guix"), a("import")]],
  ];
}

/** Writes ACL entries as text, byte for byte as libgcrypt (hence Guix) prints it. */
export function formatAcl(entries: readonly Sexp[]): string {
  return Buffer.from(printSexp([sexpAtom("acl"), ...entries], { hexStrings: true })).toString(
    "utf8",
  );
}
