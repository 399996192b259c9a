/**
 * How each input of a sandbox gets into it: bound read-only, re-created as a symlink (a
 * bind mount would follow it), or copied (see sandbox-store-dir.ts).
 */
import { lstatSync, readlinkSync, type Stats } from "node:fs";
import { basename } from "node:path";
import { BuilderError } from "./builder-error.ts";
import type { ResolvedInput } from "./bwrap-arguments.ts";
import type { SandboxSpec } from "./sandbox-spec.ts";
import { COPY_MAX_BYTES, type WantedStoreEntry } from "./sandbox-store-dir.ts";

/**
 * The inputs bwrap binds (or re-creates as symlinks), and what the sandbox's store
 * directory must hold for them: mount points, or copies of small files when `copyFiles`
 * (see sandbox-store-dir.ts for why only as root). Throws BuilderError
 * `ERR_SANDBOX_SETUP` for an input that is missing.
 *
 * @example
 * const { inputs, wanted } = resolveSandboxInputs(spec.inputs, { copyFiles: true });
 */
export function resolveSandboxInputs(
  inputs: SandboxSpec["inputs"],
  options: { copyFiles: boolean },
): { inputs: ResolvedInput[]; wanted: Map<string, WantedStoreEntry> } {
  const wanted = new Map<string, WantedStoreEntry>();
  const resolved: ResolvedInput[] = [];
  for (const input of inputs) {
    let stat: Stats;
    try {
      stat = lstatSync(input.realPath);
    } catch (error) {
      throw new BuilderError(
        "ERR_SANDBOX_SETUP",
        `input ${input.path} is missing at ${input.realPath}`,
        { cause: error },
      );
    }
    const name = basename(input.path);
    if (stat.isSymbolicLink()) {
      // A bind mount would follow a symlink; the build must see the link itself.
      resolved.push({ path: input.path, symlink: readlinkSync(input.realPath) });
    } else if (options.copyFiles && stat.isFile() && stat.size <= COPY_MAX_BYTES) {
      wanted.set(name, { kind: "copy", realPath: input.realPath, mode: stat.mode });
    } else {
      wanted.set(name, { kind: stat.isDirectory() ? "directory" : "file" });
      resolved.push({ path: input.path, realPath: input.realPath });
    }
  }
  return { inputs: resolved, wanted };
}
