/**
 * Store path syntax: `<storeDir>/<32 nix32 letters>-<name>`, with the name rules of
 * Nix 2.8 (and the Guix daemon, which checks the same alphabet). The store directory
 * is always a parameter, because `/nix/store` and `/gnu/store` hash differently.
 */
import { FormatError } from "./kiln-error.ts";

/** The store directory used when a caller does not name one. */
export const DEFAULT_STORE_DIR = "/gnu/store";

/** Length of the hash part of a store path's base name (160 bits in nix32). */
export const STORE_PATH_HASH_LENGTH = 32;

/** Longest name Nix 2.8 accepts, in bytes. */
export const MAX_STORE_NAME_LENGTH = 211;

/** A store path split into its parts. */
export interface ParsedStorePath {
  /** The 32 nix32 letters that key narinfos and `QueryPathFromHashPart`. */
  readonly hashPart: string;
  readonly name: string;
  /** `<hashPart>-<name>`, the entry under the store directory. */
  readonly baseName: string;
}

const NAME_CHAR = /^[A-Za-z0-9+\-._?=]$/;
const HASH_PART = /^[0-9a-df-np-sv-z]{32}$/;

/** Shows a rejected character the way Nix does: printable ASCII as is, anything else as `\xNN` bytes. */
function describeCharacter(char: string): string {
  const bytes = new TextEncoder().encode(char);
  if (bytes.length === 1 && bytes[0] >= 0x20 && bytes[0] < 0x7f) return `'${char}'`;
  return `'\\x${bytes[0].toString(16).padStart(2, "0")}'`;
}

/**
 * Checks a store path name: 1–211 bytes of `[A-Za-z0-9+\-._?=]`. Nix checks byte by
 * byte, so `ü` is reported as the illegal character `\xc3`. Nix 2.8 accepts `.`, `..`
 * and names starting with `.` or `-`, and so does Kiln.
 * @example validateStoreName("hello-2.10") // ok
 * @example validateStoreName("a b") // throws: contains illegal character ' '
 */
export function validateStoreName(name: string): void {
  if (name.length === 0) throw new FormatError("store path", "the name is empty");
  for (const char of name) {
    if (!NAME_CHAR.test(char)) {
      throw new FormatError(
        "store path",
        `name ${JSON.stringify(name)} contains illegal character ${describeCharacter(char)}`,
        { hint: "store names may only use A-Z a-z 0-9 + - . _ ? =" },
      );
    }
  }
  // Every allowed character is one byte, so the length in bytes is name.length here.
  if (name.length > MAX_STORE_NAME_LENGTH) {
    throw new FormatError(
      "store path",
      `name is ${name.length} bytes long, more than ${MAX_STORE_NAME_LENGTH}`,
    );
  }
}

/** Checks that a store directory is absolute and has no trailing slash, as fingerprints need. */
export function validateStoreDir(storeDir: string): void {
  if (!storeDir.startsWith("/") || storeDir.endsWith("/") || storeDir.includes("//")) {
    throw new FormatError(
      "store path",
      `store directory ${JSON.stringify(storeDir)} must be absolute, without a trailing slash`,
    );
  }
}

/**
 * Splits a store path into hash part and name, checking that it sits directly under
 * `storeDir`, that its hash part is 32 nix32 letters followed by `-`, and that the
 * name is valid.
 * @example parseStorePath("/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt")
 * // { hashPart: "k9pad896kygyvpxli7f20bkl9813p9y4", name: "hello.txt", baseName: "k9pad…-hello.txt" }
 */
export function parseStorePath(path: string, storeDir = DEFAULT_STORE_DIR): ParsedStorePath {
  validateStoreDir(storeDir);
  const prefix = `${storeDir}/`;
  if (!path.startsWith(prefix)) {
    throw new FormatError("store path", `${JSON.stringify(path)} is not in ${storeDir}`);
  }
  const baseName = path.slice(prefix.length);
  if (baseName.includes("/")) {
    throw new FormatError(
      "store path",
      `${JSON.stringify(path)} is not directly under ${storeDir}`,
      { hint: "strip the part after the store item's name" },
    );
  }
  const hashPart = baseName.slice(0, STORE_PATH_HASH_LENGTH);
  if (!HASH_PART.test(hashPart) || baseName[STORE_PATH_HASH_LENGTH] !== "-") {
    throw new FormatError(
      "store path",
      `${JSON.stringify(path)} does not start with 32 nix32 letters and "-" after ${prefix}`,
    );
  }
  const name = baseName.slice(STORE_PATH_HASH_LENGTH + 1);
  validateStoreName(name);
  return { hashPart, name, baseName };
}

/** True when `path` is a syntactically valid store path under `storeDir`. */
export function isStorePath(path: string, storeDir = DEFAULT_STORE_DIR): boolean {
  try {
    parseStorePath(path, storeDir);
    return true;
  } catch (error) {
    if (error instanceof FormatError) return false;
    throw error;
  }
}

/**
 * The 32-letter hash part of a store path, the key of narinfo files.
 * @example storePathHashPart("/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt", "/nix/store")
 * // "qa1w9gdfrba6jl2r57mb3c43863gqywp"
 */
export function storePathHashPart(path: string, storeDir = DEFAULT_STORE_DIR): string {
  return parseStorePath(path, storeDir).hashPart;
}
