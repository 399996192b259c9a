/**
 * One pass over a build output's NAR serialisation that yields everything registration
 * needs: the NAR hash and size, and the references (which candidate store paths' hash
 * parts occur in it). A fixed-output derivation hashed recursively with another algorithm
 * than sha256 gets that hash from the same pass.
 */
import { createHash } from "node:crypto";
import type { Hash, HashAlgorithm } from "@kiln/formats/hash";
import { narChunks } from "@kiln/formats/nar-chunks";
import { createReferenceScanner } from "@kiln/formats/reference-scanner";
import { STORE_PATH_HASH_LENGTH } from "@kiln/formats/store-path";

export interface OutputScan {
  /** sha256 of the NAR. */
  readonly narHash: Hash;
  readonly narSize: number;
  /** The candidates found in the NAR, sorted. */
  readonly references: readonly string[];
  /** The NAR hashed with `algorithm`, when one was asked for. */
  readonly hash?: Hash;
}

/** Bytes handled between two turns of the event loop, so that other builds' logs flow. */
const YIELD_EVERY = 16 << 20;

/**
 * Serialises `hostPath` as a NAR once, hashing and scanning it. `candidates` are full
 * store paths (`<storeDir>/<hash>-<name>`).
 *
 * @example
 * const { narHash, narSize, references } = await scanOutput("/gnu/store/…-hello", {
 *   candidates: [...inputClosure, ...outputPaths],
 * });
 */
export async function scanOutput(
  hostPath: string,
  options: { candidates: Iterable<string>; algorithm?: HashAlgorithm },
): Promise<OutputScan> {
  const byHashPart = new Map<string, string>();
  for (const candidate of options.candidates) {
    const name = candidate.slice(candidate.lastIndexOf("/") + 1);
    byHashPart.set(name.slice(0, STORE_PATH_HASH_LENGTH), candidate);
  }
  const scanner = createReferenceScanner(byHashPart.keys());
  const sha256 = createHash("sha256");
  const { algorithm } = options;
  const other =
    algorithm === undefined || algorithm === "sha256" ? undefined : createHash(algorithm);
  let narSize = 0;
  let sinceYield = 0;
  // Each chunk is a view of one reused buffer, consumed before the next is read.
  for (const chunk of narChunks(hostPath, { reuseBuffer: true })) {
    sha256.update(chunk);
    other?.update(chunk);
    scanner.update(chunk);
    narSize += chunk.length;
    sinceYield += chunk.length;
    if (sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const narHash: Hash = { algorithm: "sha256", digest: new Uint8Array(sha256.digest()) };
  const references = [...scanner.found()].map((part) => byHashPart.get(part)!).sort();
  let hash: Hash | undefined;
  if (algorithm !== undefined) {
    hash = other === undefined ? narHash : { algorithm, digest: new Uint8Array(other.digest()) };
  }
  return { narHash, narSize, references, ...(hash === undefined ? {} : { hash }) };
}
