/**
 * The narinfo record of a binary cache (Nix) or `guix publish` server (Guix): where the
 * NAR of a store path can be fetched and what it must hash to. Both flavours share this
 * model; Guix may offer one NAR in several compressions, hence the list of URLs.
 */
import type { Hash } from "./hash.ts";

/** One downloadable NAR: a `URL:` line with its `Compression:`/`FileHash:`/`FileSize:`. */
export interface NarinfoUrl {
  /** Relative to the cache root, e.g. `nar/<filehash>.nar.xz` or `nar/gzip/<basename>`. */
  readonly url: string;
  /** `xz`, `bzip2`, `zstd`, `gzip`, `lzip`, `br` or `none`. Nix reads a missing one as bzip2. */
  readonly compression: string;
  /** Hash of the (compressed) file; Guix does not write it. */
  readonly fileHash?: Hash;
  /** Size of the (compressed) file in bytes. */
  readonly fileSize?: number;
}

/** A narinfo. References and deriver are store path base names, as written. */
export interface Narinfo {
  readonly storePath: string;
  readonly urls: readonly NarinfoUrl[];
  readonly narHash: Hash;
  readonly narSize: number;
  readonly references: readonly string[];
  readonly deriver?: string;
  readonly system?: string;
  /** Nix `Sig:` values, `<keyname>:<base64>`. */
  readonly sigs: readonly string[];
  /** Guix `Signature:` value, `1;<host>;<base64 sexp>`. */
  readonly signature?: string;
  /** Content address, e.g. `fixed:r:sha256:<nix32>` or `text:sha256:<nix32>`. */
  readonly ca?: string;
}

/**
 * Text layouts: `nix` is Nix's `NarInfo::to_string`; `guix` is `narinfo-string` of
 * `guix publish` ≥ 1.1 (one URL/Compression/FileSize group per compression); `guix-legacy`
 * is `guix publish` before 1.1, which served one compression and wrote `FileSize:` after
 * `References:`.
 */
export type NarinfoFlavour = "nix" | "guix" | "guix-legacy";
