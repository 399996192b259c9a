/**
 * hashDerivationModulo (FORMATS.md §4), the hash that names a derivation's outputs and
 * that its dependents use in place of its `.drv` path:
 * 1. a fixed-output derivation hashes to `sha256("fixed:out:" + hashAlgo + ":" + hash + ":" + path)`,
 *    so changing how it is built changes nothing downstream;
 * 2. any other derivation is printed with each input `.drv` path replaced by the hex
 *    hashDerivationModulo of that input (re-sorted by those hex strings) and hashed.
 */
import { type Derivation, isFixedOutputDerivation } from "./derivation.ts";
import { sha256, toHex } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import { printDerivation } from "./print-derivation.ts";

/** Returns the derivation stored at a `.drv` path (read from the store, a map, …). */
export type DerivationResolver = (drvPath: string) => Derivation;

export interface HashDerivationModuloOptions {
  readonly resolve: DerivationResolver;
  /** `.drv` path → its hashDerivationModulo; filled as inputs are hashed, reusable across calls. */
  readonly cache?: Map<string, Uint8Array>;
  /** Hash the masked form (output paths and their env vars blank), as when computing output paths. */
  readonly maskOutputs?: boolean;
}

function hashWithInputs(
  drv: Derivation,
  cache: ReadonlyMap<string, Uint8Array>,
  maskOutputs: boolean,
): Uint8Array {
  if (isFixedOutputDerivation(drv)) {
    const out = drv.outputs.get("out")!;
    return sha256(`fixed:out:${out.hashAlgo}:${out.hash}:${out.path}`);
  }
  const inputDrvReplacements = new Map<string, string>();
  for (const drvPath of drv.inputDrvs.keys()) {
    inputDrvReplacements.set(drvPath, toHex(cache.get(drvPath)!));
  }
  return sha256(printDerivation(drv, { maskOutputs, inputDrvReplacements }));
}

/** Hashes every input not yet in the cache, depth first without recursion (chains can be deep). */
function hashInputs(
  drv: Derivation,
  resolve: DerivationResolver,
  cache: Map<string, Uint8Array>,
): void {
  if (isFixedOutputDerivation(drv)) return;
  const visiting = new Set<string>();
  const stack: { drvPath: string; drv: Derivation | undefined }[] = [];
  for (const drvPath of drv.inputDrvs.keys()) {
    if (!cache.has(drvPath)) stack.push({ drvPath, drv: undefined });
  }
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (cache.has(top.drvPath)) {
      stack.pop();
    } else if (top.drv === undefined) {
      top.drv = resolve(top.drvPath);
      visiting.add(top.drvPath);
      // The inputs of a fixed-output derivation do not matter, so they are not even read.
      if (isFixedOutputDerivation(top.drv)) continue;
      for (const input of top.drv.inputDrvs.keys()) {
        if (visiting.has(input)) {
          throw new FormatError("derivation", `${input} depends on itself`);
        }
        if (!cache.has(input)) stack.push({ drvPath: input, drv: undefined });
      }
    } else {
      cache.set(top.drvPath, hashWithInputs(top.drv, cache, false));
      visiting.delete(top.drvPath);
      stack.pop();
    }
  }
}

/**
 * Computes hashDerivationModulo, reading input derivations through `resolve`.
 * @example toHex(hashDerivationModulo(drv, { resolve: (p) => parseDerivation(readFileSync(p, "utf8")) }))
 */
export function hashDerivationModulo(
  drv: Derivation,
  options: HashDerivationModuloOptions,
): Uint8Array {
  const cache = options.cache ?? new Map<string, Uint8Array>();
  hashInputs(drv, options.resolve, cache);
  return hashWithInputs(drv, cache, options.maskOutputs === true);
}
