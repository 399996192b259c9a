/**
 * Content-address strings as Nix prints them in narinfo `CA:` fields and the store
 * database: `text:sha256:<nix32>`, `fixed:r:<algo>:<nix32>` and `fixed:<algo>:<nix32>`.
 */
import { formatHashNix32, type Hash, parseHash } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import {
  type FileIngestionMethod,
  fixedOutputPathParts,
  makeStorePath,
  type StorePathLocation,
  type StorePathParts,
  textPathParts,
} from "./make-store-path.ts";

/** How a store object's contents determine its path. */
export interface ContentAddress {
  /** `text`: a file hashed as is, sha256 only; `flat`/`recursive`: fixed content. */
  readonly method: "text" | FileIngestionMethod;
  readonly hash: Hash;
}

/**
 * Parses a CA string. The digest may be nix32, base16 or base64, as Nix accepts.
 * @example parseContentAddress("fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw")
 * // { method: "recursive", hash: { algorithm: "sha256", digest: … } }
 */
export function parseContentAddress(text: string): ContentAddress {
  if (text.startsWith("text:")) {
    const hash = parseHash(text.slice("text:".length));
    if (hash.algorithm !== "sha256") {
      throw new FormatError(
        "content address",
        `text content address uses ${hash.algorithm}, but only sha256 is allowed`,
      );
    }
    return { method: "text", hash };
  }
  if (text.startsWith("fixed:r:")) {
    return { method: "recursive", hash: parseHash(text.slice("fixed:r:".length)) };
  }
  if (text.startsWith("fixed:")) {
    return { method: "flat", hash: parseHash(text.slice("fixed:".length)) };
  }
  throw new FormatError(
    "content address",
    `${JSON.stringify(text)} starts with neither "text:" nor "fixed:"`,
  );
}

/**
 * Prints a CA string with a nix32 digest, as Nix 2.8 does.
 * @example formatContentAddress({ method: "flat", hash }) // "fixed:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm"
 */
export function formatContentAddress(ca: ContentAddress): string {
  switch (ca.method) {
    case "text":
      return `text:${formatHashNix32(ca.hash)}`;
    case "recursive":
      return `fixed:r:${formatHashNix32(ca.hash)}`;
    case "flat":
      return `fixed:${formatHashNix32(ca.hash)}`;
  }
}

/** Type and inner hash of the store path for a content address (see FORMATS.md §3). */
export function contentAddressPathParts(
  ca: ContentAddress,
  options: { references?: readonly string[]; storeDir?: string } = {},
): StorePathParts {
  if (ca.method === "text") {
    if (ca.hash.algorithm !== "sha256") {
      throw new FormatError("content address", "text content addresses must use sha256");
    }
    return textPathParts(ca.hash.digest, options);
  }
  return fixedOutputPathParts({ ...options, method: ca.method, hash: ca.hash });
}

/**
 * The store path of a content-addressed object.
 * @example storePathForContentAddress(parseContentAddress("text:sha256:00xyyr…b4aq"), { name: "hello.txt", storeDir: "/nix/store" })
 * // "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt"
 */
export function storePathForContentAddress(
  ca: ContentAddress,
  options: StorePathLocation & { references?: readonly string[] },
): string {
  const parts = contentAddressPathParts(ca, options);
  return makeStorePath(parts.type, parts.innerHash, options);
}
