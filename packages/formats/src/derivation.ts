/**
 * The in-memory form of a derivation (`.drv` file, FORMATS.md §4). Maps keep any key
 * safe (an env var may be called `__proto__`) and keep the order in which entries were
 * read; printing sorts, so order never changes the bytes written.
 */
import { FormatError } from "./kiln-error.ts";

/** One output: input-addressed (`hashAlgo` and `hash` empty) or fixed-output. */
export interface DerivationOutput {
  /** Store path, or `""` before output paths are computed (the masked form). */
  readonly path: string;
  /** `""`, or `sha256`, `sha1`, … for flat and `r:sha256`, … for recursive fixed outputs. */
  readonly hashAlgo: string;
  /** `""`, or the fixed output's digest in lowercase base16. */
  readonly hash: string;
}

export interface Derivation {
  /** Output name → output. */
  readonly outputs: ReadonlyMap<string, DerivationOutput>;
  /** `.drv` path → names of the outputs used from it. */
  readonly inputDrvs: ReadonlyMap<string, readonly string[]>;
  /** Store paths of sources (`builtins.toFile`, `./file` copied to the store). */
  readonly inputSrcs: readonly string[];
  /** The platform, such as `x86_64-linux` (the ATerm's fifth field). */
  readonly system: string;
  readonly builder: string;
  /** Builder arguments; their order matters. */
  readonly args: readonly string[];
  /** Environment of the build. */
  readonly env: ReadonlyMap<string, string>;
}

/**
 * True for a fixed-output derivation: exactly one output, `out`, with a hash. Those
 * get their output path from the hash alone and hash specially in hashDerivationModulo.
 */
export function isFixedOutputDerivation(drv: Derivation): boolean {
  if (drv.outputs.size !== 1) return false;
  const out = drv.outputs.get("out");
  return out !== undefined && out.hash !== "" && out.hash !== "impure";
}

/**
 * The derivation's name: `env.name`, or with `__structuredAttrs` the `name` inside
 * `env.__json`. Output paths and the `.drv` path are named after it.
 */
export function derivationName(drv: Derivation): string {
  const name = drv.env.get("name");
  if (name !== undefined) return name;
  const json = drv.env.get("__json");
  if (json !== undefined) {
    let attrs: unknown;
    try {
      attrs = JSON.parse(json);
    } catch (cause) {
      throw new FormatError("derivation", "env.__json is not valid JSON", { cause });
    }
    if (typeof attrs === "object" && attrs !== null && "name" in attrs) {
      const structuredName = (attrs as { name: unknown }).name;
      if (typeof structuredName === "string") return structuredName;
    }
  }
  throw new FormatError("derivation", "the derivation has no name in its env", {
    hint: "pass the name explicitly",
  });
}
