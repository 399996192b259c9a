/**
 * Writes a binary cache of made-up text store paths, for tests that need many paths or
 * Guix-flavoured, Guix-signed narinfos. The NARs come from Kiln's own writer (checked
 * against Nix elsewhere); signatures use the fixture key or a given Guix key.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zstdCompressSync } from "node:zlib";
import type { GuixKeyPair } from "@kiln/formats/guix-key";
import { signGuixNarinfo } from "@kiln/formats/guix-signature";
import { formatHashNix32, hashBytes } from "@kiln/formats/hash";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { printNarinfo } from "@kiln/formats/print-narinfo";
import { resign } from "./fixtures.ts";

export interface SyntheticCacheOptions {
  readonly count: number;
  /** Bytes of filler in each file (default 64). */
  readonly size?: number;
  /** Every item after the first refers to the first. */
  readonly sharedReference?: boolean;
  /** Sign with a Guix `Signature:` (and no Nix `Sig:`) using this key, in Guix's layout. */
  readonly guixKey?: GuixKeyPair;
}

/** The NAR of a regular, non-executable file (FORMATS.md §1). */
function fileNar(contents: Uint8Array): Buffer {
  const str = (text: string | Uint8Array) => {
    const bytes = Buffer.from(text);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(bytes.length));
    return Buffer.concat([length, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
  };
  return Buffer.concat(
    ["nix-archive-1", "(", "type", "regular", "contents", contents, ")"].map(str),
  );
}

/** Writes the cache under `dir` (zstd nars); returns the store paths, item 0 first. */
export function writeSyntheticCache(dir: string, options: SyntheticCacheOptions): string[] {
  mkdirSync(join(dir, "nar"), { recursive: true });
  writeFileSync(join(dir, "nix-cache-info"), "StoreDir: /nix/store\nWantMassQuery: 1\n");
  const paths: string[] = [];
  for (let index = 0; index < options.count; index++) {
    const contents = Buffer.from(`item ${index}\n${"x".repeat(options.size ?? 64)}\n`);
    const references = options.sharedReference && index > 0 ? [paths[0]] : [];
    const path = makeTextPath(`item-${index}`, contents, { references, storeDir: "/nix/store" });
    const nar = fileNar(contents);
    const file = zstdCompressSync(nar);
    const fileHash = hashBytes("sha256", file);
    const url = `nar/${formatHashNix32(fileHash).slice("sha256:".length)}.nar.zst`;
    writeFileSync(join(dir, url), file);
    const text = printNarinfo(
      {
        storePath: path,
        urls: [{ url, compression: "zstd", fileHash, fileSize: file.length }],
        narHash: hashBytes("sha256", nar),
        narSize: nar.length,
        references: references.map((reference) => reference.slice("/nix/store/".length)),
        sigs: [],
        ca: `text:${formatHashNix32(hashBytes("sha256", contents))}`,
      },
      { flavour: options.guixKey ? "guix" : "nix" },
    );
    const signed = options.guixKey
      ? signGuixNarinfo(text, { ...options.guixKey, hostname: "farm.example" })
      : resign(text);
    writeFileSync(join(dir, `${path.slice(11, 43)}.narinfo`), signed);
    paths.push(path);
  }
  return paths;
}
