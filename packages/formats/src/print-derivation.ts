/**
 * Writes a derivation as ATerm (FORMATS.md §4): no spaces, no trailing newline, outputs,
 * input derivations (and their output names), sources and env sorted bytewise, args
 * in their order, and exactly five characters escaped.
 *
 * Every string is escaped, the system field too, as in the Guix daemon and older Nix.
 * Nix 2.8 writes the system field unescaped; the two agree for every system name
 * without `"`, `\`, LF, CR or TAB (and Nix 2.8 cannot read its own `.drv` back when the
 * system has `"` or `\`).
 */
import type { Derivation } from "./derivation.ts";
import { FormatError } from "./kiln-error.ts";

export interface PrintDerivationOptions {
  /**
   * Print every output path, and every env var named after an output, as `""`: the
   * masked form whose hash names the outputs of an input-addressed derivation.
   */
  readonly maskOutputs?: boolean;
  /**
   * Print these keys instead of the input derivation paths (hashDerivationModulo puts
   * the hex hash of each input there). Inputs that end up with the same key are merged.
   */
  readonly inputDrvReplacements?: ReadonlyMap<string, string>;
}

/**
 * Orders strings by their UTF-8 bytes, as Nix's std::string comparisons do. UTF-16
 * code units order the same way except that surrogates (characters above U+FFFF) sort
 * before U+E000–U+FFFF, so those two ranges are swapped before comparing.
 */
export function compareBytewise(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** A quoted ATerm string. Other control bytes and UTF-8 are written raw, as Nix does. */
function quote(value: string): string {
  if (!value.isWellFormed()) {
    throw new FormatError("derivation", "a string contains a lone UTF-16 surrogate", {
      hint: "derivation strings must be valid Unicode so that their UTF-8 bytes are defined",
    });
  }
  return `"${value.replace(/["\\\n\r\t]/g, (c) => ESCAPES[c])}"`;
}

function quoteList(values: Iterable<string>): string {
  return `[${Array.from(values, quote).join(",")}]`;
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort(compareBytewise);
}

/** Input derivations under their printed keys, merged and sorted. */
function inputDrvEntries(
  drv: Derivation,
  replacements: ReadonlyMap<string, string> | undefined,
): [string, string[]][] {
  const merged = new Map<string, Set<string>>();
  for (const [drvPath, outputNames] of drv.inputDrvs) {
    const key = replacements?.get(drvPath) ?? drvPath;
    const names = merged.get(key) ?? new Set<string>();
    for (const name of outputNames) names.add(name);
    merged.set(key, names);
  }
  return sorted(merged.keys()).map((key) => [key, sorted(merged.get(key)!)]);
}

/**
 * Prints a derivation as Nix and Guix write `.drv` files.
 * @example printDerivation(parseDerivation(text)) === text // for every file Nix writes
 * @example printDerivation(drv, { maskOutputs: true }) // the form hashed to name its outputs
 */
export function printDerivation(drv: Derivation, options: PrintDerivationOptions = {}): string {
  const mask = options.maskOutputs === true;
  const outputs = sorted(drv.outputs.keys()).map((name) => {
    const output = drv.outputs.get(name)!;
    const path = mask ? "" : output.path;
    return `(${quote(name)},${quote(path)},${quote(output.hashAlgo)},${quote(output.hash)})`;
  });
  const inputDrvs = inputDrvEntries(drv, options.inputDrvReplacements).map(
    ([key, names]) => `(${quote(key)},${quoteList(names)})`,
  );
  const env = sorted(drv.env.keys()).map((key) => {
    const value = mask && drv.outputs.has(key) ? "" : drv.env.get(key)!;
    return `(${quote(key)},${quote(value)})`;
  });
  return (
    `Derive([${outputs.join(",")}],[${inputDrvs.join(",")}],${quoteList(sorted(new Set(drv.inputSrcs)))},` +
    `${quote(drv.system)},${quote(drv.builder)},${quoteList(drv.args)},[${env.join(",")}])`
  );
}
