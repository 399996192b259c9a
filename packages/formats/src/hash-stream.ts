import { createHash } from "node:crypto";
import type { Hash, HashAlgorithm } from "./hash.ts";

/**
 * Hashes everything a stream yields, with backpressure (for flat file hashes).
 * @example await hashStream(createReadStream(file), "sha256")
 */
export async function hashStream(
  source: AsyncIterable<Uint8Array>,
  algorithm: HashAlgorithm,
): Promise<Hash & { size: number }> {
  const hasher = createHash(algorithm);
  let size = 0;
  for await (const chunk of source) {
    hasher.update(chunk);
    size += chunk.length;
  }
  return { algorithm, digest: new Uint8Array(hasher.digest()), size };
}
