/**
 * Passes a byte stream through while hashing and counting it, so a NAR can be restored
 * and checked against its expected hash in one pass.
 */
import { createHash, type Hash as NodeHash } from "node:crypto";
import type { Hash, HashAlgorithm } from "@kiln/formats/hash";

export interface HashingTee {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Valid once `chunks` has been drained. */
  result(): { hash: Hash; size: number };
}

export function hashingTee(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  algorithm: HashAlgorithm = "sha256",
): HashingTee {
  const hasher: NodeHash = createHash(algorithm);
  let size = 0;
  let done = false;
  return {
    chunks: (async function* () {
      for await (const chunk of source) {
        hasher.update(chunk);
        size += chunk.length;
        yield chunk;
      }
      done = true;
    })(),
    result() {
      if (!done) throw new Error("hashingTee: result() before the stream was drained");
      return { hash: { algorithm, digest: new Uint8Array(hasher.digest()) }, size };
    },
  };
}
