/**
 * Computing store paths (FORMATS.md §3):
 *   path        = storeDir "/" nix32(fold20(sha256(fingerprint))) "-" name
 *   fingerprint = type ":sha256:" hex(innerHash) ":" storeDir ":" name
 * The type and inner hash depend on how the content is addressed: text files,
 * `source` (recursive sha256), other fixed content, and derivation outputs.
 */
import { type Hash, sha256, toHex } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import { encodeNix32 } from "./nix32.ts";
import {
  DEFAULT_STORE_DIR,
  parseStorePath,
  validateStoreDir,
  validateStoreName,
} from "./store-path.ts";

/** Where a store path goes and what it is called. */
export interface StorePathLocation {
  readonly name: string;
  /** Logical store directory, e.g. `/gnu/store` (the default) or `/nix/store`. */
  readonly storeDir?: string;
}

/** The two hashed inputs of a store path besides its name and store directory. */
export interface StorePathParts {
  /** `text:<refs…>`, `source:<refs…>`, `output:out`, `output:<id>`. */
  readonly type: string;
  /** SHA-256 digest, printed in hex inside the fingerprint. */
  readonly innerHash: Uint8Array;
}

/** How fixed content was hashed: the file bytes (`flat`) or its NAR (`recursive`). */
export type FileIngestionMethod = "flat" | "recursive";

export interface FixedOutputPathOptions extends StorePathLocation {
  readonly method: FileIngestionMethod;
  readonly hash: Hash;
  /** Only allowed for recursive sha256 (the `source` type). */
  readonly references?: readonly string[];
}

/** Checks references, then sorts and de-duplicates them as Nix's StorePathSet does. */
function sortedReferences(references: readonly string[], storeDir: string): string[] {
  for (const reference of references) parseStorePath(reference, storeDir);
  return [...new Set(references)].sort();
}

/** `kind` followed by `:<ref>` for each reference (sorted). */
function typeWithReferences(kind: string, references: readonly string[], storeDir: string) {
  return [kind, ...sortedReferences(references, storeDir)].join(":");
}

/**
 * The text whose hash names a store path.
 * @example storePathFingerprint({ type: "text", innerHash }, { name: "hello.txt", storeDir: "/nix/store" })
 * // "text:sha256:5891b5…be03:/nix/store:hello.txt"
 */
export function storePathFingerprint(parts: StorePathParts, location: StorePathLocation): string {
  const storeDir = location.storeDir ?? DEFAULT_STORE_DIR;
  if (parts.innerHash.length !== 32) {
    throw new FormatError("store path", `inner hash has ${parts.innerHash.length} bytes, not 32`);
  }
  return `${parts.type}:sha256:${toHex(parts.innerHash)}:${storeDir}:${location.name}`;
}

/**
 * The store path for a type and a SHA-256 inner hash. Validates the name and store directory.
 * @example makeStorePath("output:out", hdm, { name: "hello-2.10", storeDir: "/gnu/store" })
 */
export function makeStorePath(
  type: string,
  innerHash: Uint8Array,
  location: StorePathLocation,
): string {
  const storeDir = location.storeDir ?? DEFAULT_STORE_DIR;
  validateStoreDir(storeDir);
  validateStoreName(location.name);
  const digest = sha256(storePathFingerprint({ type, innerHash }, { ...location, storeDir }));
  // XOR-fold the 32-byte digest into 20 bytes (160 bits, 32 nix32 letters).
  const folded = new Uint8Array(20);
  for (let i = 0; i < digest.length; i++) folded[i % 20] ^= digest[i];
  return `${storeDir}/${encodeNix32(folded)}-${location.name}`;
}

/**
 * Type and inner hash of a text file (`builtins.toFile`, `.drv` files, `addTextToStore`)
 * whose contents hash to `contentsHash`.
 */
export function textPathParts(
  contentsHash: Uint8Array,
  options: { references?: readonly string[]; storeDir?: string } = {},
): StorePathParts {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  return {
    type: typeWithReferences("text", options.references ?? [], storeDir),
    innerHash: contentsHash,
  };
}

/**
 * Type and inner hash of fixed content. Recursive sha256 is the `source` type, which
 * may have references; everything else is `output:out` over
 * `sha256("fixed:out:" + ("r:" if recursive) + algo + ":" + hex + ":")` and may not.
 */
export function fixedOutputPathParts(
  options: Omit<FixedOutputPathOptions, "name">,
): StorePathParts {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const references = options.references ?? [];
  if (options.method === "recursive" && options.hash.algorithm === "sha256") {
    return {
      type: typeWithReferences("source", references, storeDir),
      innerHash: options.hash.digest,
    };
  }
  if (references.length > 0) {
    throw new FormatError(
      "store path",
      `fixed content hashed ${options.method} with ${options.hash.algorithm} cannot have references`,
      { hint: "only recursive sha256 content (the 'source' type) may refer to other store paths" },
    );
  }
  const prefix = options.method === "recursive" ? "r:" : "";
  const inner = `fixed:out:${prefix}${options.hash.algorithm}:${toHex(options.hash.digest)}:`;
  return { type: "output:out", innerHash: sha256(inner) };
}

/**
 * The store path of a text file, as `builtins.toFile` and `nix-store --add` of a `.drv` make it.
 * @example makeTextPath("hello.txt", "hello\n", { storeDir: "/nix/store" })
 * // "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt"
 */
export function makeTextPath(
  name: string,
  contents: string | Uint8Array,
  options: { references?: readonly string[]; storeDir?: string } = {},
): string {
  const parts = textPathParts(sha256(contents), options);
  return makeStorePath(parts.type, parts.innerHash, { name, storeDir: options.storeDir });
}

/**
 * The store path of fixed content (`nix-store --add[-fixed]`, fixed-output derivations).
 * @example makeFixedOutputPath({ method: "flat", hash: parseHash("sha256:00xyyr…b4aq"), name: "hello.txt" })
 */
export function makeFixedOutputPath(options: FixedOutputPathOptions): string {
  const parts = fixedOutputPathParts(options);
  return makeStorePath(parts.type, parts.innerHash, options);
}

/**
 * The path of output `outputName` of an input-addressed derivation whose masked form
 * has hashDerivationModulo `hdm`. `out` is named `drvName`, other outputs `drvName-<id>`.
 * @example makeOutputPath("dev", hdm, { drvName: "multi", storeDir: "/nix/store" }) // "/nix/store/…-multi-dev"
 */
export function makeOutputPath(
  outputName: string,
  hdm: Uint8Array,
  options: { drvName: string; storeDir?: string },
): string {
  const name = outputName === "out" ? options.drvName : `${options.drvName}-${outputName}`;
  return makeStorePath(`output:${outputName}`, hdm, { name, storeDir: options.storeDir });
}
