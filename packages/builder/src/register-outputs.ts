/**
 * After a successful build: bring each output into the store, canonicalise it, hash it
 * and scan it for references in one pass, check fixed-output hashes, and register all
 * outputs of the derivation in one transaction. If anything fails, every output written
 * into the store is removed again and nothing is registered. stageOutputs does all but
 * the flush and the registration, for builds whose registration is grouped with others
 * (CommitQueue).
 *
 * Outputs of ordinary builds are renamed into the store. Outputs of fixed-output builds
 * are copied: such a build shared the host network, so it may have handed a descriptor
 * of its output to a process outside the sandbox, which could still write through it
 * (CVE-2024-27297); the copy is a new file nobody else holds.
 */
import { chmodSync, cpSync, lstatSync, renameSync } from "node:fs";
import type { Derivation } from "@kiln/formats/derivation";
import { formatHashNix32 } from "@kiln/formats/hash";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import { fsyncTree } from "@kiln/store/fsync-tree";
import type { NewPathInfo } from "@kiln/store/path-info";
import type { BuildStore } from "./build-options.ts";
import { BuilderError } from "./builder-error.ts";
import { checkFixedOutput, fixedOutputHash } from "./fixed-output-hash.ts";
import { removeTree } from "./remove-tree.ts";
import { scanOutput } from "./scan-output.ts";
import { syncTree } from "./sync-tree.ts";

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
 * derivation as deriver and, for a fixed output, its content address: stageOutputs, then
 * the outputs are flushed to disk and registered in one transaction.
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
  const staged = await stageOutputs(store, options);
  try {
    await Promise.all(staged.realPaths.map((path) => syncTree(path)));
    store.db.registerValidPaths(staged.infos.map((info) => ({ info })));
  } catch (error) {
    for (const path of staged.realPaths) removeTree(path);
    throw error;
  }
}

/** Outputs in their place in the store, complete but neither flushed nor valid. */
export interface StagedOutputs {
  /** What to register, one per output. */
  readonly infos: NewPathInfo[];
  /** Their real paths, for flushing (or removal if registration fails). */
  readonly realPaths: string[];
}

/**
 * Brings the built outputs into their place in the store without registering them: each
 * is canonicalised, hashed and scanned (a fixed output as a copy under a temporary name
 * beside its place, which `kiln store verify` knows as a leftover, and its hash checked),
 * then all are renamed into place. The caller holds the outputs' locks and keeps them
 * until the outputs are registered or removed. On failure nothing is left in the store.
 *
 * @example
 * const staged = await stageOutputs(store, options);
 * await commits.commit(staged.infos, staged.realPaths);
 */
export async function stageOutputs(
  store: BuildStore,
  options: RegisterOutputsOptions,
): Promise<StagedOutputs> {
  const { drvPath, derivation, builtOutputs, fixedOutput, owner, buildUid } = options;
  const outputPaths = [...derivation.outputs.values()].map((output) => output.path);
  const candidates = [...options.inputs, ...outputPaths];
  const written: string[] = [];
  try {
    const ready: { from: string; final: string; info: NewPathInfo }[] = [];
    for (const [name, output] of derivation.outputs) {
      const built = builtOutputs.get(output.path);
      if (built === undefined) {
        throw new BuilderError(
          "ERR_MISSING_OUTPUT",
          `builder for ${drvPath} failed to produce output path ${output.path} (output "${name}")`,
        );
      }
      const final = store.realPath(output.path);
      let from = built;
      if (fixedOutput && built !== final) {
        from = store.temporaryPathFor(output.path);
        written.push(from);
        cpSync(built, from, { recursive: true, verbatimSymlinks: true, mode: 0 });
        canonicalisePathMetadata(from, { owner });
      } else {
        // Ordinary outputs are hashed where the build left them (no process of the build
        // is alive, and only the daemon can reach its directory), then renamed into place.
        canonicalisePathMetadata(built, { owner, buildUid });
      }
      const declared = fixedOutput ? fixedOutputHash(output) : undefined;
      const scan = await scanOutput(from, {
        candidates,
        algorithm: declared?.method === "recursive" ? declared.expected.algorithm : undefined,
      });
      let ca: string | undefined;
      if (declared !== undefined) {
        ca = await checkFixedOutput(from, declared, { narHash: scan.hash, drvPath });
        if (scan.references.length > 0) {
          throw new BuilderError(
            "ERR_BAD_FIXED_OUTPUT",
            `the fixed-output derivation ${drvPath} must not refer to store paths, but its output refers to ${scan.references[0]}`,
          );
        }
      }
      ready.push({
        from,
        final,
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
    for (const { from, final, info } of ready) {
      if (from === final) continue;
      written.push(final);
      moveIntoStore(from, final, () => {
        const temporary = store.temporaryPathFor(info.path);
        written.push(temporary);
        return temporary;
      });
    }
    return {
      infos: ready.map(({ info }) => info),
      realPaths: ready.map(({ final }) => final),
    };
  } catch (error) {
    for (const path of written) removeTree(path);
    throw error;
  }
}

/**
 * rename(2); when the build directory is on another file system than the store, a copy
 * under a temporary name there, flushed, then renamed.
 */
function moveIntoStore(from: string, to: string, temporary: () => string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === "EACCES" && lstatSync(from).isDirectory()) {
      // Without root, moving a directory to another parent needs write permission on it
      // (its ".." changes), and canonicalisation made it read-only: lend it for the move.
      chmodSync(from, 0o755);
      renameSync(from, to);
      chmodSync(to, 0o555);
      return;
    }
    if (code !== "EXDEV") throw error;
    const copy = temporary();
    cpSync(from, copy, { recursive: true, verbatimSymlinks: true, mode: 0 });
    fsyncTree(copy);
    renameSync(copy, to);
  }
}
