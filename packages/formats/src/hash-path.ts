/**
 * `hashPath`: the NAR hash of a file-system path (`nix hash path`, `nix-hash --type sha256`)
 * computed while serialising, without ever holding the archive.
 */
import { createHash } from "node:crypto";
import type { Hash, HashAlgorithm } from "./hash.ts";
import { type NativeNarWalk, NativeWalkFailed, startNativeNarWalk } from "./nar-native.ts";

/** Bytes hashed between two turns of the event loop, so a long hash does not starve it. */
const YIELD_EVERY = 16 << 20;

/**
 * Hashes the NAR serialisation of `path` (see `dumpPath` for its rules) and counts its size.
 * The native walker (nar-native.ts) reads the tree on a thread of its own while this one
 * hashes; without it, the tree is read synchronously here in 1 MiB batches (see
 * nar-chunks.ts for why). Either way there is a turn of the event loop every 16 MiB.
 * `walk` is a native walk of `path` already started by the caller (it is closed here).
 *
 * @example
 * const { hash, narSize } = await hashPath("/tmp/tree");
 * formatHashNix32(hash); // "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"
 */
export async function hashPath(
  path: string,
  algorithm: HashAlgorithm = "sha256",
  walk: NativeNarWalk | undefined = startNativeNarWalk(path),
): Promise<{ hash: Hash; narSize: number }> {
  if (walk) {
    try {
      return await hashChunks(walk.chunks(), algorithm);
    } catch (error) {
      // Walk again in JavaScript: it gives the same archive, or the error in its words.
      if (!(error instanceof NativeWalkFailed)) throw error;
    } finally {
      walk.close();
    }
  }
  // Loaded here: with the native walker, a command never needs it.
  const { narChunks } = await import("./nar-chunks.ts");
  // The chunks are views of one reused buffer: update() consumes each before the next read.
  return hashChunks(narChunks(path, { reuseBuffer: true }), algorithm);
}

async function hashChunks(
  chunks: Iterable<Uint8Array>,
  algorithm: HashAlgorithm,
): Promise<{ hash: Hash; narSize: number }> {
  const hasher = createHash(algorithm);
  let narSize = 0;
  let sinceYield = 0;
  for (const chunk of chunks) {
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
