/**
 * From the builder's results to the protocol's: status codes, times in seconds, and the
 * built outputs as Nix 2.8 reports them (a Realisation per output, keyed by
 * `sha256:<hashDerivationModulo in hex>!<output>`), which `nix build` uses to find the
 * output paths.
 */
import type { BuildResult } from "@kiln/builder/build-options";
import type { Derivation } from "@kiln/formats/derivation";
import { toHex } from "@kiln/formats/hash";
import { hashDerivationModulo } from "@kiln/formats/hash-derivation-modulo";
import type { WireBuildResult } from "./wire-build-result.ts";
import { BuildStatusCode } from "./worker-protocol.ts";

/** The protocol's status for a builder result. */
export function buildStatusCode(result: BuildResult): number {
  switch (result.status) {
    case "built":
    case "checked":
      return BuildStatusCode.Built;
    case "already-valid":
    case "would-build":
      return BuildStatusCode.AlreadyValid;
    case "dependency-failed":
      return BuildStatusCode.DependencyFailed;
    case "skipped":
      return BuildStatusCode.MiscFailure;
    case "failed":
      switch (result.error?.code) {
        case "ERR_BUILD_TIMEOUT":
        case "ERR_BUILD_SILENT":
          return BuildStatusCode.TimedOut;
        case "ERR_BUILD_FAILED":
          return BuildStatusCode.PermanentFailure;
        case "ERR_MISSING_OUTPUT":
        case "ERR_BAD_FIXED_OUTPUT":
        case "ERR_HASH_MISMATCH":
          return BuildStatusCode.OutputRejected;
        case "ERR_MISSING_INPUT":
        case "ERR_BAD_DERIVATION":
          return BuildStatusCode.InputRejected;
        default:
          return BuildStatusCode.MiscFailure;
      }
  }
}

/** True for the statuses that mean the outputs are there. */
export function succeeded(result: BuildResult): boolean {
  return (
    result.status === "built" || result.status === "checked" || result.status === "already-valid"
  );
}

/**
 * The wire form of a result. `derivation` and `resolve` (reading input derivations)
 * give the built outputs; `wanted` limits them to some outputs.
 */
export function toWireBuildResult(
  result: BuildResult,
  options: {
    derivation?: Derivation;
    resolve?: (drvPath: string) => Derivation;
    wanted?: readonly string[] | "*";
  } = {},
): WireBuildResult {
  const builtOutputs = new Map<string, string>();
  const { derivation, resolve } = options;
  if (succeeded(result) && derivation !== undefined && resolve !== undefined) {
    const drvHash = `sha256:${toHex(hashDerivationModulo(derivation, { resolve, maskOutputs: true }))}`;
    for (const [name, path] of Object.entries(result.outputs)) {
      if (options.wanted !== undefined && options.wanted !== "*" && !options.wanted.includes(name))
        continue;
      const id = `${drvHash}!${name}`;
      const outPath = path.slice(path.lastIndexOf("/") + 1);
      builtOutputs.set(
        id,
        JSON.stringify({ dependentRealisations: {}, id, outPath, signatures: [] }),
      );
    }
  }
  const startTime = result.startTime === undefined ? 0 : Math.floor(result.startTime / 1000);
  const stopTime =
    result.startTime === undefined
      ? 0
      : Math.floor((result.startTime + (result.durationMs ?? 0)) / 1000);
  const ran =
    result.status === "built" || result.status === "checked" || result.status === "failed";
  return {
    status: buildStatusCode(result),
    errorMsg: result.error?.message ?? "",
    timesBuilt: ran && result.startTime !== undefined ? 1 : 0,
    isNonDeterministic: false,
    startTime,
    stopTime,
    builtOutputs,
  };
}
