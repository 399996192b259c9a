/**
 * Filling in a derivation's output paths and computing its own `.drv` path, as
 * `derivation` in Nix and Guix does before writing the `.drv` (FORMATS.md §3–4).
 */
import {
  type Derivation,
  type DerivationOutput,
  derivationName,
  isFixedOutputDerivation,
} from "./derivation.ts";
import { fromHex, parseHashAlgorithm } from "./hash.ts";
import { type DerivationResolver, hashDerivationModulo } from "./hash-derivation-modulo.ts";
import { FormatError } from "./kiln-error.ts";
import { makeFixedOutputPath, makeOutputPath, makeTextPath } from "./make-store-path.ts";
import { printDerivation } from "./print-derivation.ts";
import { DEFAULT_STORE_DIR } from "./store-path.ts";

export interface DerivationOutputsOptions {
  /** Reads input derivations, whose hashDerivationModulo goes into the output paths. */
  readonly resolve: DerivationResolver;
  /** Logical store directory; `/gnu/store` by default. */
  readonly storeDir?: string;
  /** Name the outputs are called after; `env.name` (or `name` in `env.__json`) by default. */
  readonly name?: string;
  /** Shared hashDerivationModulo cache, see hashDerivationModulo. */
  readonly cache?: Map<string, Uint8Array>;
}

/** The output path of a fixed-output derivation, from its hash alone. */
function fixedOutputPath(out: DerivationOutput, name: string, storeDir: string): string {
  const recursive = out.hashAlgo.startsWith("r:");
  const algorithm = parseHashAlgorithm(recursive ? out.hashAlgo.slice(2) : out.hashAlgo);
  return makeFixedOutputPath({
    method: recursive ? "recursive" : "flat",
    hash: { algorithm, digest: fromHex(out.hash) },
    name,
    storeDir,
  });
}

/**
 * Returns the derivation with every output path set, and every env var named after an
 * output set to that path (added if missing). Input-addressed outputs are named by the
 * hashDerivationModulo of the masked derivation; a fixed-output derivation's `out` by
 * its hash. Existing output paths are ignored, so this also checks a `.drv`.
 * @example computeDerivationOutputs(drv, { resolve, storeDir: "/nix/store" }).outputs.get("out")?.path
 */
export function computeDerivationOutputs(
  drv: Derivation,
  options: DerivationOutputsOptions,
): Derivation {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const name = options.name ?? derivationName(drv);
  const paths = new Map<string, string>();
  if (isFixedOutputDerivation(drv)) {
    paths.set("out", fixedOutputPath(drv.outputs.get("out")!, name, storeDir));
  } else {
    for (const [outputName, output] of drv.outputs) {
      if (output.hashAlgo !== "") {
        throw new FormatError(
          "derivation",
          `output ${JSON.stringify(outputName)} is content-addressed (${output.hashAlgo}) but not fixed`,
          { hint: "floating content-addressed and impure derivations are not supported" },
        );
      }
    }
    const maskedEnv = new Map(drv.env);
    for (const outputName of drv.outputs.keys()) maskedEnv.set(outputName, "");
    const hdm = hashDerivationModulo(
      { ...drv, env: maskedEnv },
      { resolve: options.resolve, cache: options.cache, maskOutputs: true },
    );
    for (const outputName of drv.outputs.keys()) {
      paths.set(outputName, makeOutputPath(outputName, hdm, { drvName: name, storeDir }));
    }
  }
  const outputs = new Map<string, DerivationOutput>();
  const env = new Map(drv.env);
  for (const [outputName, output] of drv.outputs) {
    const path = paths.get(outputName)!;
    outputs.set(outputName, { ...output, path });
    env.set(outputName, path);
  }
  return { ...drv, outputs, env };
}

/**
 * The store path of the `.drv` file: a text path named `<name>.drv` whose references
 * are the input sources and input derivations.
 * @example derivationPath(drv, { storeDir: "/nix/store" }) // "/nix/store/3ghsl9sd…-simple.drv"
 */
export function derivationPath(
  drv: Derivation,
  options: { storeDir?: string; name?: string } = {},
): string {
  const name = options.name ?? derivationName(drv);
  return makeTextPath(`${name}.drv`, printDerivation(drv), {
    references: [...drv.inputSrcs, ...drv.inputDrvs.keys()],
    storeDir: options.storeDir,
  });
}
