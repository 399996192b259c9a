/**
 * A package as plain data: what `kiln show`, `search` and `lint` need of it, without its
 * build recipe. The evaluation sandbox sends these from its process to Kiln's as JSON.
 */
import type { License, Package } from "./package.ts";

/** Systems a package without `supportedSystems` is offered for. */
export const defaultSupportedSystems: readonly string[] = [
  "x86_64-linux",
  "aarch64-linux",
  "i686-linux",
  "riscv64-linux",
];

export interface PackageSummary {
  readonly name: string;
  readonly version: string;
  readonly outputs: readonly string[];
  /** `supportedSystems`, or the default systems. */
  readonly systems: readonly string[];
  /** Inputs, native and propagated inputs as `NAME@VERSION[:OUTPUT]`, sorted, once each. */
  readonly dependencies: readonly string[];
  /** Where the package is defined, when it says so itself. */
  readonly location?: string;
  readonly homePage?: string;
  /** License names (SPDX-like). */
  readonly licenses: readonly string[];
  readonly synopsis: string;
  readonly description: string;
}

/**
 * The summary of a package.
 * @example packageSummary(hello).dependencies // ["greeting-data@1.0"]
 */
export function packageSummary(pkg: Package): PackageSummary {
  const licenses: readonly License[] = Array.isArray(pkg.license)
    ? (pkg.license as readonly License[])
    : [pkg.license as License];
  const dependencies = [
    ...(pkg.inputs ?? []),
    ...(pkg.nativeInputs ?? []),
    ...(pkg.propagatedInputs ?? []),
  ]
    .map((input) => {
      const [dependency, output] = Array.isArray(input)
        ? (input as readonly [Package, string])
        : [input as Package, "out"];
      return `${dependency.name}@${dependency.version}${output === "out" ? "" : `:${output}`}`;
    })
    .filter((entry, index, all) => all.indexOf(entry) === index)
    .sort();
  return {
    name: pkg.name,
    version: pkg.version,
    outputs: pkg.outputs ?? ["out"],
    systems: pkg.supportedSystems ?? defaultSupportedSystems,
    dependencies,
    ...(pkg.location === undefined ? {} : { location: pkg.location }),
    ...(pkg.homePage === undefined ? {} : { homePage: pkg.homePage }),
    licenses: licenses.map((license) => license?.name),
    synopsis: pkg.synopsis,
    description: pkg.description,
  };
}
