/**
 * `hashPath`: the NAR hash of a file-system path (`nix hash path`, `nix-hash --type sha256`)
 * computed while serialising, without ever holding the archive.
 */
import { createHash } from "node:crypto";
import type { Hash, HashAlgorithm } from "./hash.ts";
import { narChunks } from "./nar-chunks.ts";

/** Bytes hashed between two turns of the event loop, so a long hash does not starve it. */
const YIELD_EVERY = 16 << 20;

/**
 * Hashes the NAR serialisation of `path` (see `dumpPath` for its rules) and counts its size.
 * The tree is read synchronously in 1 MiB batches (see nar-chunks.ts for why), with a turn
 * of the event loop every 16 MiB.
 *
 * @example
 * const { hash, narSize } = await hashPath("/tmp/tree");
 * formatHashNix32(hash); // "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"
 */
export async function hashPath(
  path: string,
  algorithm: HashAlgorithm = "sha256",
): Promise<{ hash: Hash; narSize: number }> {
  const hasher = createHash(algorithm);
  let narSize = 0;
  let sinceYield = 0;
  // The chunks are views of one reused buffer: update() consumes each before the next read.
  for (const chunk of narChunks(path, { reuseBuffer: true })) {
    hasher.update(chunk);
    narSize += chunk.length;
    sinceYield += chunk.length;
    if (sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { hash: { algorithm, digest: new Uint8Array(hasher.digest()) }, narSize };
}
