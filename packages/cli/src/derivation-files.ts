/** Reading `.drv` files given on the command line, and checking them against their store paths. */
import { readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import type { Derivation } from "@kiln/formats/derivation";
import { computeDerivationOutputs, derivationPath } from "@kiln/formats/derivation-outputs";
import { FormatError } from "@kiln/formats/kiln-error";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { printDerivation } from "@kiln/formats/print-derivation";
import { parseStorePath } from "@kiln/formats/store-path";
import type { CliConfig } from "./cli-config.ts";

/** Reads input derivations from the store's real location, by their logical path. */
export function storeDerivationReader(config: CliConfig): (drvPath: string) => Derivation {
  const cache = new Map<string, Derivation>();
  return (drvPath) => {
    let drv = cache.get(drvPath);
    if (!drv) {
      const { baseName } = parseStorePath(drvPath, config.storeDir);
      const file = `${config.realStoreDir}/${baseName}`;
      let text: Buffer;
      try {
        text = readFileSync(file);
      } catch (cause) {
        throw new FormatError(
          "derivation",
          `input derivation ${drvPath} is not readable at ${file}`,
          {
            cause,
            hint: "check --store-dir and --real-store-dir",
          },
        );
      }
      drv = parseDerivation(text);
      cache.set(drvPath, drv);
    }
    return drv;
  };
}

/** The logical path a `.drv` argument stands for: itself when it is a store path, else by its base name. */
export function logicalDrvPath(file: string, config: CliConfig): string {
  const absolute = resolvePath(file);
  if (absolute.startsWith(`${config.storeDir}/`)) return absolute;
  const baseName = absolute.slice(absolute.lastIndexOf("/") + 1);
  return `${config.storeDir}/${baseName}`;
}

export function realFile(file: string, config: CliConfig): string {
  const absolute = resolvePath(file);
  return absolute.startsWith(`${config.storeDir}/`)
    ? config.realStoreDir + absolute.slice(config.storeDir.length)
    : absolute;
}

/** Returns the problems found in one derivation file (empty when it checks out). */
export function checkDerivation(
  file: string,
  config: CliConfig,
  resolve: (p: string) => Derivation,
  cache: Map<string, Uint8Array>,
) {
  const problems: string[] = [];
  const text = readFileSync(realFile(file, config), "utf8");
  const drv = parseDerivation(text);
  const drvPath = logicalDrvPath(file, config);
  let name: string | undefined;
  try {
    name = parseStorePath(drvPath, config.storeDir).name.replace(/\.drv$/, "");
  } catch {
    problems.push(`${file}: the file name is not a store path name (hash-name.drv)`);
  }
  if (printDerivation(drv) !== text)
    problems.push(`${file}: not in canonical form (sorting, escaping or spacing differs)`);
  const computed = computeDerivationOutputs(drv, {
    resolve,
    storeDir: config.storeDir,
    name,
    cache,
  });
  for (const [output, { path }] of computed.outputs) {
    const actual = drv.outputs.get(output)?.path;
    if (actual !== path) problems.push(`${file}: output ${output} is ${actual}, expected ${path}`);
    const envValue = drv.env.get(output);
    if (envValue !== undefined && envValue !== path) {
      problems.push(`${file}: environment variable ${output} is ${envValue}, expected ${path}`);
    }
  }
  if (name !== undefined) {
    const expected = derivationPath(drv, { storeDir: config.storeDir, name });
    if (expected !== drvPath)
      problems.push(`${file}: the derivation's own path should be ${expected}`);
  }
  return problems;
}
