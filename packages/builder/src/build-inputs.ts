/**
 * What a build may see and run: its input closure (the store paths of its sources and
 * of the outputs it uses from its input derivations, closed under references), checked
 * to be valid, and a builder the sandbox can actually reach.
 */
import { existsSync } from "node:fs";
import type { Derivation } from "@kiln/formats/derivation";
import type { StoreDatabase } from "@kiln/store/store-database";
import { BuilderError } from "./builder-error.ts";
import { checkBuiltinDerivation, isBuiltinBuilder } from "./builtin-builders.ts";

export interface BuildInputsOptions {
  readonly storeDir: string;
  readonly db: Pick<StoreDatabase, "isValidPath" | "references">;
  readDerivation(drvPath: string): Derivation;
  /** The platform this machine builds for, e.g. `x86_64-linux`. */
  readonly system: string;
  readonly chrootDirs?: readonly string[];
  readonly disableChroot?: boolean;
  /**
   * Outputs of input derivations still being built: left out, with what they refer to,
   * for a sandbox set up before they exist (the rest of the closure comes later).
   */
  readonly pending?: ReadonlySet<string>;
}

/**
 * The sorted input closure of the derivation at `drvPath`. Throws BuilderError when an
 * input is not valid (`ERR_MISSING_INPUT`), when the derivation is for another system
 * (`ERR_WRONG_SYSTEM`), needs a builtin builder or `__structuredAttrs`
 * (`ERR_UNSUPPORTED`), or when its
 * builder cannot be reached (`ERR_MISSING_BUILDER`).
 *
 * @example
 * buildInputs(drvPath, drv, { storeDir, db, readDerivation, system: "x86_64-linux" });
 * // ["/gnu/store/…-bash-5.1", "/gnu/store/…-builder.sh", "/gnu/store/…-glibc-2.35"]
 */
export function buildInputs(
  drvPath: string,
  drv: Derivation,
  options: BuildInputsOptions,
): string[] {
  checkPlatform(drvPath, drv, options.system);
  const roots = [...drv.inputSrcs];
  for (const [inputDrvPath, names] of drv.inputDrvs) {
    const input = options.readDerivation(inputDrvPath);
    for (const name of names) {
      const path = input.outputs.get(name)?.path;
      if (path === undefined || path === "") {
        throw new BuilderError(
          "ERR_BAD_DERIVATION",
          `${drvPath} uses output "${name}" of ${inputDrvPath}, which has no such output`,
        );
      }
      roots.push(path);
    }
  }
  const closure = new Set<string>();
  const pending = roots.filter((root) => options.pending?.has(root) !== true);
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (closure.has(path)) continue;
    if (!options.db.isValidPath(path)) {
      throw new BuilderError("ERR_MISSING_INPUT", `input ${path} of ${drvPath} is not valid`, {
        hint: "build or add it first",
      });
    }
    closure.add(path);
    for (const reference of options.db.references(path)) {
      if (!closure.has(reference)) pending.push(reference);
    }
  }
  const sorted = [...closure].sort();
  // A builder inside a pending output is checked once the output is there.
  const pendingBuilder = [...(options.pending ?? [])].some(
    (path) => drv.builder === path || drv.builder.startsWith(`${path}/`),
  );
  if (!isBuiltinBuilder(drv.builder) && !pendingBuilder)
    checkBuilder(drvPath, drv.builder, sorted, options);
  return sorted;
}

function checkPlatform(drvPath: string, drv: Derivation, system: string): void {
  // Builtin builders run in Kiln itself, so on any system (see builtin-builders.ts).
  if (isBuiltinBuilder(drv.builder)) {
    checkBuiltinDerivation(drvPath, drv);
    return;
  }
  if (drv.system === "builtin") {
    throw new BuilderError(
      "ERR_UNSUPPORTED",
      `${drvPath} needs the builtin builder ${drv.builder}, which is not supported yet`,
    );
  }
  // Building it without its JSON file would give wrong results silently.
  if (drv.env.has("__structuredAttrs")) {
    throw new BuilderError(
      "ERR_UNSUPPORTED",
      `${drvPath} uses __structuredAttrs, which is not supported yet`,
    );
  }
  if (drv.system !== system) {
    throw new BuilderError(
      "ERR_WRONG_SYSTEM",
      `cannot build ${drvPath} on this system: it needs ${JSON.stringify(drv.system)}, this is ${JSON.stringify(system)}`,
      { hint: "build it on a machine of that system" },
    );
  }
}

function checkBuilder(
  drvPath: string,
  builder: string,
  closure: readonly string[],
  options: BuildInputsOptions,
): void {
  if (!builder.startsWith("/")) {
    throw new BuilderError(
      "ERR_MISSING_BUILDER",
      `the builder of ${drvPath}, ${JSON.stringify(builder)}, is not an absolute path`,
    );
  }
  const { storeDir } = options;
  if (builder.startsWith(`${storeDir}/`)) {
    const slash = builder.indexOf("/", storeDir.length + 1);
    const storePath = slash === -1 ? builder : builder.slice(0, slash);
    if (!closure.includes(storePath)) {
      throw new BuilderError(
        "ERR_MISSING_BUILDER",
        `the builder of ${drvPath}, ${builder}, is not in its inputs`,
        { hint: `add ${storePath} to the derivation's inputs` },
      );
    }
    return;
  }
  if (options.disableChroot !== true) {
    const visible = (options.chrootDirs ?? []).some(
      (dir) => builder === dir || builder.startsWith(dir.endsWith("/") ? dir : `${dir}/`),
    );
    if (!visible) {
      throw new BuilderError(
        "ERR_MISSING_BUILDER",
        `the builder of ${drvPath}, ${builder}, is neither in the store nor in a chroot directory`,
        { hint: `make it visible with --chroot-directory ${builder}` },
      );
    }
  }
  if (!existsSync(builder)) {
    throw new BuilderError(
      "ERR_MISSING_BUILDER",
      `the builder of ${drvPath}, ${builder}, does not exist on this machine`,
    );
  }
}
