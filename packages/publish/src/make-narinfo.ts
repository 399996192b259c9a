/**
 * The narinfo of a store path as kiln publish serves it: guix publish's layout (one
 * URL group per compression), plus what Nix needs (FileHash where known, CA), signed
 * twice (Nix `Sig:`, then Guix `Signature:`).
 *
 * Nix 2.8 reads only one URL group: each URL/Compression/FileHash/FileSize line
 * overwrites the previous one, so Nix takes the LAST group. Every group is complete and
 * valid on its own, so whichever a client picks works; the interop test shows which
 * one real Nix downloads.
 */
import { basename } from "node:path";
import { parseHash } from "@kiln/formats/hash";
import type { Narinfo, NarinfoUrl } from "@kiln/formats/narinfo";
import { printNarinfo } from "@kiln/formats/print-narinfo";
import { signNarinfoBoth } from "@kiln/keys/sign-narinfo-both";
import type { SigningKey } from "@kiln/keys/signing-key";
import type { PathInfo } from "@kiln/store/path-info";

/** Who signs: the key, the host name for `Signature:` and the Nix key name for `Sig:`. */
export interface NarinfoSigner {
  readonly key: SigningKey;
  readonly hostname: string;
  readonly keyName: string;
}

/**
 * Signed narinfo text for `info`, offering the nar at `urls`. Signatures the store
 * already holds (e.g. from Nix copies) are passed on, except one under our key name,
 * which this signature replaces.
 * @example makeNarinfo(info, [{ url: "nar/zstd/…-hello", compression: "zstd" }], signer)
 */
export function makeNarinfo(
  info: PathInfo,
  urls: readonly NarinfoUrl[],
  signer: NarinfoSigner,
): string {
  const narinfo: Narinfo = {
    storePath: info.path,
    urls,
    narHash: parseHash(info.narHash),
    narSize: info.narSize,
    references: info.references.map((ref) => basename(ref)),
    ...(info.deriver === undefined ? {} : { deriver: basename(info.deriver) }),
    sigs: info.sigs.filter((sig) => !sig.startsWith(`${signer.keyName}:`)),
    ...(info.ca === undefined ? {} : { ca: info.ca }),
  };
  return signNarinfoBoth(printNarinfo(narinfo, { flavour: "guix" }), signer.key, {
    hostname: signer.hostname,
    keyName: signer.keyName,
  });
}
