/**
 * Checks on the names in request URLs, made before anything touches the store or the
 * disk: a URL segment that is not exactly a store item name (wrong length, characters
 * outside nix32 or the name alphabet, `..`, a slash) is refused right away.
 */
import { STORE_PATH_HASH_LENGTH, validateStoreName } from "@kiln/formats/store-path";

const HASH_PART = /^[0-9a-df-np-sv-z]{32}$/;
/** A nix32 SHA-256 digest: 52 letters, the first one at most `1` (256 = 51·5 + 1 bits). */
const NIX32_SHA256 = /^[01][0-9a-df-np-sv-z]{51}$/;

/** True for 32 nix32 letters, the key of a narinfo. */
export function isHashPart(text: string): boolean {
  return HASH_PART.test(text);
}

/** True for a nix32 SHA-256 digest as in `/file/<name>/sha256/<nix32>`. */
export function isNix32Sha256(text: string): boolean {
  return NIX32_SHA256.test(text);
}

/** True for a valid store item name (the part after `<hash>-`). */
export function isStoreName(text: string): boolean {
  try {
    validateStoreName(text);
    return true;
  } catch {
    return false;
  }
}

/** True for `<32 nix32 letters>-<valid name>`, a store path's base name. */
export function isStoreBaseName(text: string): boolean {
  return (
    isHashPart(text.slice(0, STORE_PATH_HASH_LENGTH)) &&
    text[STORE_PATH_HASH_LENGTH] === "-" &&
    isStoreName(text.slice(STORE_PATH_HASH_LENGTH + 1))
  );
}
