/**
 * Sizes on the command line (`-C 500MiB`, `-F 5G`), parsed as Guix's `size->number` does:
 * a decimal number, then an optional unit; `K`/`KiB`/`k`, `M`/`MiB`, `G`/`GiB`, … are
 * powers of 1024, `kB`, `MB`, `GB`, … powers of 1000. The result is rounded to bytes.
 */
import { GcError } from "./gc-error.ts";

const BINARY = ["K", "M", "G", "T", "P", "E", "Z", "Y"];

function unitFactor(unit: string): number | undefined {
  if (unit === "") return 1;
  if (unit === "k") return 1024;
  const binary = /^([KMGTPEZY])(iB)?$/.exec(unit);
  if (binary) return 1024 ** (BINARY.indexOf(binary[1]) + 1);
  const decimal = /^([kMGTPEZY])B$/.exec(unit);
  if (decimal) return 1000 ** (BINARY.indexOf(decimal[1].toUpperCase()) + 1);
  return undefined;
}

/**
 * @example parseSize("500MiB") // 524288000
 * @example parseSize("5G") // 5368709120
 * @example parseSize("1.5kB") // 1500
 */
export function parseSize(text: string): number {
  const match = /^([0-9]*\.?[0-9]+|[0-9]+\.)(.*)$/.exec(text);
  if (!match) throw new GcError("BAD_SIZE", `invalid number: ${text}`);
  const factor = unitFactor(match[2]);
  if (factor === undefined) {
    throw new GcError("BAD_SIZE", `unknown unit: ${match[2]}`, {
      hint: "use a number of bytes, or a unit such as KiB, MiB, GiB (or K, M, G), kB, MB, GB",
    });
  }
  return Math.round(Number(match[1]) * factor);
}
