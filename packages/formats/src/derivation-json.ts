/**
 * The JSON shape of `nix show-derivation` in Nix 2.8, for `kiln derivation show`.
 */
import type { Derivation } from "./derivation.ts";
import { compareBytewise } from "./print-derivation.ts";

export interface DerivationOutputJson {
  /** Absent while output paths are not known (a masked or floating output). */
  readonly path?: string;
  readonly hashAlgo?: string;
  readonly hash?: string;
}

export interface DerivationJson {
  readonly outputs: Readonly<Record<string, DerivationOutputJson>>;
  readonly inputSrcs: readonly string[];
  readonly inputDrvs: Readonly<Record<string, readonly string[]>>;
  readonly system: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** A record with keys in bytewise order. fromEntries defines keys like `__proto__` as plain data. */
function sortedRecord<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => compareBytewise(a, b)));
}

/**
 * Converts a derivation to `{ "<drvPath>": { outputs, inputSrcs, inputDrvs, system, builder, args, env } }`,
 * with keys in the order and the sorting of `nix show-derivation`.
 * @example JSON.stringify(derivationToJson(drvPath, parseDerivation(text)), null, 2)
 */
export function derivationToJson(drvPath: string, drv: Derivation): Record<string, DerivationJson> {
  const outputs = sortedRecord(
    Array.from(drv.outputs, ([name, output]): [string, DerivationOutputJson] => [
      name,
      {
        ...(output.path === "" ? {} : { path: output.path }),
        ...(output.hashAlgo === "" ? {} : { hashAlgo: output.hashAlgo }),
        ...(output.hash === "" ? {} : { hash: output.hash }),
      },
    ]),
  );
  const inputDrvs = sortedRecord(
    Array.from(drv.inputDrvs, ([path, names]): [string, string[]] => [
      path,
      [...new Set(names)].sort(compareBytewise),
    ]),
  );
  const json: DerivationJson = {
    outputs,
    inputSrcs: [...new Set(drv.inputSrcs)].sort(compareBytewise),
    inputDrvs,
    system: drv.system,
    builder: drv.builder,
    args: [...drv.args],
    env: sortedRecord(drv.env),
  };
  return Object.fromEntries([[drvPath, json]]);
}
