/**
 * Turns a derivation's parts into the `.drv` Nix and Guix would write: output paths
 * computed (hashDerivationModulo over inputs lowered earlier in the same context), and the
 * `.drv` text added as a text path whose references are its sources and input derivations.
 */
import type { Derivation, DerivationOutput } from "@kiln/formats/derivation";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { printDerivation } from "@kiln/formats/print-derivation";
import type { LoweredPackage, LoweringContext } from "./lowering-context.ts";
import { PackageError } from "./package-error.ts";

export interface DerivationParts {
  readonly name: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly outputs: readonly string[];
  /** `.drv` path → output names used. */
  readonly inputDrvs: ReadonlyMap<string, readonly string[]>;
  readonly inputSrcs: readonly string[];
  readonly fixed?: { readonly hashAlgo: string; readonly hash: string };
}

/** Writes (or, without a store, only computes) the derivation; returns it with its paths. */
export async function writeDerivation(
  parts: DerivationParts,
  context: LoweringContext,
): Promise<LoweredPackage> {
  const outputs = new Map<string, DerivationOutput>();
  for (const name of parts.outputs)
    outputs.set(name, {
      path: "",
      hashAlgo: parts.fixed?.hashAlgo ?? "",
      hash: parts.fixed?.hash ?? "",
    });
  const env = new Map<string, string>(Object.entries(parts.env));
  env.set("name", parts.name);
  env.set("system", context.system);
  env.set("builder", parts.builder);
  const inputDrvs = new Map<string, string[]>();
  for (const [drvPath, names] of parts.inputDrvs)
    inputDrvs.set(drvPath, [...new Set(names)].sort());
  const masked: Derivation = {
    outputs,
    inputDrvs,
    inputSrcs: [...new Set(parts.inputSrcs)].sort(),
    system: context.system,
    builder: parts.builder,
    args: parts.args,
    env,
  };
  let derivation: Derivation;
  try {
    derivation = computeDerivationOutputs(masked, {
      resolve: (path) => {
        const known = context.derivations.get(path);
        if (!known) throw new PackageError(`input derivation ${path} was not lowered first`);
        return known;
      },
      storeDir: context.storeDir,
      cache: context.moduloHashes,
    });
  } catch (cause) {
    if (cause instanceof PackageError) throw cause;
    throw new PackageError(`cannot compute the derivation of ${parts.name}`, { cause });
  }
  const drvPath = await context.addText(`${parts.name}.drv`, printDerivation(derivation), [
    ...derivation.inputSrcs,
    ...derivation.inputDrvs.keys(),
  ]);
  context.derivations.set(drvPath, derivation);
  const result: Record<string, string> = {};
  for (const [name, output] of derivation.outputs) result[name] = output.path;
  return { drvPath, derivation, outputs: result };
}
