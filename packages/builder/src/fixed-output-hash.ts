/**
 * Checking a fixed-output derivation's output against the hash it declares, and the
 * content address it is registered with (`fixed:r:sha256:<nix32>`, `fixed:sha1:<nix32>`).
 */
import { createReadStream, lstatSync } from "node:fs";
import { type ContentAddress, formatContentAddress } from "@kiln/formats/content-address";
import type { DerivationOutput } from "@kiln/formats/derivation";
import {
  formatHashNix32,
  fromHex,
  type Hash,
  type HashAlgorithm,
  parseHashAlgorithm,
  toHex,
} from "@kiln/formats/hash";
import { hashStream } from "@kiln/formats/hash-stream";
import { BuilderError } from "./builder-error.ts";

/** What a fixed output declares: how it is hashed, and the expected hash. */
export interface FixedOutputHash {
  readonly method: "flat" | "recursive";
  readonly expected: Hash;
}

/** Reads `r:sha256` / `sha1` and the base16 digest of a fixed output. */
export function fixedOutputHash(output: DerivationOutput): FixedOutputHash {
  const recursive = output.hashAlgo.startsWith("r:");
  const algorithm: HashAlgorithm = parseHashAlgorithm(
    recursive ? output.hashAlgo.slice(2) : output.hashAlgo,
  );
  return {
    method: recursive ? "recursive" : "flat",
    expected: { algorithm, digest: fromHex(output.hash) },
  };
}

/**
 * Checks the output at `hostPath` and returns its content address in Nix's form.
 * `narHash` is the output's NAR hashed with the declared algorithm (see scanOutput),
 * used for recursive outputs; a flat output must be a non-executable regular file and
 * its bytes are hashed. Throws BuilderError `ERR_HASH_MISMATCH` giving both hashes.
 *
 * @example
 * const ca = await checkFixedOutput(copy, fixedOutputHash(output), {
 *   narHash: scan.hash, drvPath,
 * }); // "fixed:r:sha256:1j9j084sn239ab5084vydg0xhighly1xmhxavbp56sw8gdl6i64g"
 */
export async function checkFixedOutput(
  hostPath: string,
  declared: FixedOutputHash,
  context: { narHash: Hash | undefined; drvPath: string },
): Promise<string> {
  let actual: Hash;
  if (declared.method === "recursive") {
    if (context.narHash?.algorithm !== declared.expected.algorithm) {
      throw new BuilderError(
        "ERR_INTERNAL",
        `checking ${context.drvPath} needs its NAR hashed with ${declared.expected.algorithm}`,
      );
    }
    actual = context.narHash;
  } else {
    const stat = lstatSync(hostPath);
    if (!stat.isFile() || (stat.mode & 0o100) !== 0) {
      throw new BuilderError(
        "ERR_BAD_FIXED_OUTPUT",
        `the output of fixed-output derivation ${context.drvPath} should be a non-executable ` +
          "regular file, since recursive hashing is not enabled (outputHashMode = flat)",
      );
    }
    const { algorithm, digest } = await hashStream(
      createReadStream(hostPath),
      declared.expected.algorithm,
    );
    actual = { algorithm, digest };
  }
  if (!sameDigest(actual.digest, declared.expected.digest)) {
    throw new BuilderError(
      "ERR_HASH_MISMATCH",
      `hash mismatch in fixed-output derivation ${context.drvPath}:\n` +
        `  specified: ${describe(declared.expected)}\n` +
        `  got:       ${describe(actual)}`,
      { hint: "if the source changed on purpose, update the hash in the derivation" },
    );
  }
  const ca: ContentAddress = { method: declared.method, hash: actual };
  return formatContentAddress(ca);
}

function describe(hash: Hash): string {
  return `${formatHashNix32(hash)} (base16 ${toHex(hash.digest)})`;
}

function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
