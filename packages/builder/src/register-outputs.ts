/**
 * After a successful build: bring each output into the store, canonicalise it, hash it
 * and scan it for references in one pass, check fixed-output hashes, and register all
 * outputs of the derivation in one transaction. If anything fails, every output written
 * into the store is removed again and nothing is registered.
 *
 * Outputs of ordinary builds are renamed into the store. Outputs of fixed-output builds
 * are copied: such a build shared the host network, so it may have handed a descriptor
 * of its output to a process outside the sandbox, which could still write through it
 * (CVE-2024-27297); the copy is a new file nobody else holds.
 */
import { cpSync, renameSync } from "node:fs";
import type { Derivation } from "@kiln/formats/derivation";
import { formatHashNix32 } from "@kiln/formats/hash";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import type { NewPathInfo } from "@kiln/store/path-info";
import { realPathOf } from "@kiln/store/store-config";
import type { BuildStore } from "./build-options.ts";
import { BuilderError } from "./builder-error.ts";
import { checkFixedOutput, fixedOutputHash } from "./fixed-output-hash.ts";
import { removeTree } from "./remove-tree.ts";
import { scanOutput } from "./scan-output.ts";

export interface RegisterOutputsOptions {
  readonly drvPath: string;
  readonly derivation: Derivation;
  /** Logical output path → where the build left it (see SandboxResult.outputs). */
  readonly builtOutputs: ReadonlyMap<string, string>;
  /** The build's input closure: with the outputs, the candidates for references. */
  readonly inputs: readonly string[];
  readonly fixedOutput: boolean;
  /** The store owner, when running as root (files are chowned to it). */
  readonly owner?: { uid: number; gid: number };
  /** The uid the build ran as: files owned by anyone else are refused. */
  readonly buildUid?: number;
}

/**
 * Moves (or copies) the built outputs into the store and registers them, with the
 * derivation as deriver and, for a fixed output, its content address.
 *
 * @example
 * await registerOutputs(store, {
 *   drvPath, derivation, builtOutputs: result.outputs, inputs, fixedOutput: false,
 * });
 */
export async function registerOutputs(
  store: BuildStore,
  options: RegisterOutputsOptions,
): Promise<void> {
  const { drvPath, derivation, builtOutputs, fixedOutput, owner, buildUid } = options;
  const outputPaths = [...derivation.outputs.values()].map((output) => output.path);
  const candidates = [...options.inputs, ...outputPaths];
  const written: string[] = [];
  try {
    const registrations: { info: NewPathInfo }[] = [];
    for (const [name, output] of derivation.outputs) {
      const built = builtOutputs.get(output.path);
      if (built === undefined) {
        throw new BuilderError(
          "ERR_MISSING_OUTPUT",
          `builder for ${drvPath} failed to produce output path ${output.path} (output "${name}")`,
        );
      }
      const final = realPathOf(store.config, output.path);
      if (built === final) {
        // Built in place (no sandbox): already where it belongs.
        written.push(final);
        canonicalisePathMetadata(final, { owner, buildUid });
      } else if (fixedOutput) {
        written.push(final);
        cpSync(built, final, { recursive: true, verbatimSymlinks: true, mode: 0 });
        canonicalisePathMetadata(final, { owner });
      } else {
        canonicalisePathMetadata(built, { owner, buildUid });
        written.push(final);
        moveIntoStore(built, final);
      }
      const declared = fixedOutput ? fixedOutputHash(output) : undefined;
      const scan = await scanOutput(final, {
        candidates,
        algorithm: declared?.method === "recursive" ? declared.expected.algorithm : undefined,
      });
      let ca: string | undefined;
      if (declared !== undefined) {
        ca = await checkFixedOutput(final, declared, { narHash: scan.hash, drvPath });
        if (scan.references.length > 0) {
          throw new BuilderError(
            "ERR_BAD_FIXED_OUTPUT",
            `the fixed-output derivation ${drvPath} must not refer to store paths, but its output refers to ${scan.references[0]}`,
          );
        }
      }
      registrations.push({
        info: {
          path: output.path,
          narHash: formatHashNix32(scan.narHash),
          narSize: scan.narSize,
          references: scan.references,
          deriver: drvPath,
          ultimate: true,
          ...(ca === undefined ? {} : { ca }),
        },
      });
    }
    store.db.registerValidPaths(registrations);
  } catch (error) {
    for (const path of written) removeTree(path);
    throw error;
  }
}

/** rename(2), or a copy when the build directory is on another file system than the store. */
function moveIntoStore(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    cpSync(from, to, { recursive: true, verbatimSymlinks: true, mode: 0 });
  }
}
