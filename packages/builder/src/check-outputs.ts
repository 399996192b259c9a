/**
 * `--check`: a derivation whose outputs are valid was built again in its sandbox; its
 * new outputs are compared, by NAR hash, with the registered ones. The store is not
 * touched, except that with `keepFailed` a differing output is kept as `<path>.check`
 * next to the original, as Nix does, for diffoscope and friends.
 */
import { cpSync, renameSync } from "node:fs";
import type { Derivation } from "@kiln/formats/derivation";
import { formatHashNix32 } from "@kiln/formats/hash";
import { canonicalisePathMetadata } from "@kiln/store/canonicalise";
import type { BuildStore } from "./build-options.ts";
import { BuilderError } from "./builder-error.ts";
import { removeTree } from "./remove-tree.ts";
import { scanOutput } from "./scan-output.ts";

export interface CheckOutputsOptions {
  readonly drvPath: string;
  readonly derivation: Derivation;
  /** Logical output path → where the rebuild left it. */
  readonly builtOutputs: ReadonlyMap<string, string>;
  readonly keepFailed: boolean;
  readonly owner?: { uid: number; gid: number };
  readonly buildUid?: number;
}

/**
 * Compares the rebuilt outputs with the store: resolves when they are identical, and
 * throws BuilderError `ERR_NOT_DETERMINISTIC` naming the differing outputs (and the
 * kept `.check` copies) when they are not.
 *
 * @example
 * await checkOutputs(store, { drvPath, derivation, builtOutputs: result.outputs, keepFailed: false });
 */
export async function checkOutputs(store: BuildStore, options: CheckOutputsOptions): Promise<void> {
  const { drvPath, derivation, builtOutputs, keepFailed, owner, buildUid } = options;
  const differing: string[] = [];
  const kept: string[] = [];
  for (const [name, output] of derivation.outputs) {
    const built = builtOutputs.get(output.path);
    if (built === undefined) {
      throw new BuilderError(
        "ERR_MISSING_OUTPUT",
        `builder for ${drvPath} failed to produce output path ${output.path} (output "${name}")`,
      );
    }
    const registered = store.db.queryPathInfo(output.path);
    if (registered === undefined) {
      throw new BuilderError(
        "ERR_MISSING_INPUT",
        `output ${output.path} of ${drvPath} is not valid, so it cannot be checked`,
      );
    }
    canonicalisePathMetadata(built, { owner, buildUid });
    const { narHash } = await scanOutput(built, { candidates: [] });
    if (formatHashNix32(narHash) === registered.narHash) continue;
    differing.push(output.path);
    if (keepFailed) {
      const copy = `${store.realPath(output.path)}.check`;
      removeTree(copy);
      moveAside(built, copy);
      kept.push(copy);
    }
  }
  if (differing.length === 0) return;
  const which =
    differing.length === 1
      ? `output ${differing[0]} differs`
      : `outputs ${differing.join(", ")} differ`;
  const where = kept.length > 0 ? ` (rebuilt: ${kept.join(", ")})` : "";
  throw new BuilderError(
    "ERR_NOT_DETERMINISTIC",
    `derivation ${drvPath} may not be deterministic: ${which}${where}`,
    { hint: keepFailed ? undefined : "run with --keep-failed to keep the rebuilt outputs" },
  );
}

function moveAside(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    cpSync(from, to, { recursive: true, verbatimSymlinks: true, mode: 0 });
  }
}
