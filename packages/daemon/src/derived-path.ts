/**
 * What BuildPaths, BuildPathsWithResults and QueryMissing take: a store path to make
 * valid (`opaque`), or outputs of a derivation to build (`built`), written
 * `/…/x.drv!out,dev` or `/…/x.drv!*` for every output.
 *
 * Before protocol 1.30 (and always for Guix) a bare `.drv` path means "build it", as in
 * `nix-store --realise x.drv`; from 1.30 on it names the `.drv` file itself.
 */
import type { WireFormat } from "./wire-format.ts";

export type DerivedPath =
  | { readonly kind: "opaque"; readonly path: string }
  | {
      readonly kind: "built";
      readonly drvPath: string;
      /** Output names; `"*"` for all of them. */
      readonly outputs: readonly string[] | "*";
    };

/**
 * Parses one element of a derived-path list.
 * @example parseDerivedPath("/nix/store/…-hello.drv!out", NIX_2_8_FORMAT)
 * // { kind: "built", drvPath: "/nix/store/…-hello.drv", outputs: ["out"] }
 */
export function parseDerivedPath(text: string, format: WireFormat): DerivedPath {
  const bang = text.indexOf("!");
  if (bang < 0) {
    const legacy = format.dialect === "guix" || format.minor < 30;
    if (legacy && text.endsWith(".drv")) return { kind: "built", drvPath: text, outputs: "*" };
    return { kind: "opaque", path: text };
  }
  const drvPath = text.slice(0, bang);
  const spec = text.slice(bang + 1);
  if (spec === "*" || spec === "") return { kind: "built", drvPath, outputs: "*" };
  return { kind: "built", drvPath, outputs: [...new Set(spec.split(","))].sort() };
}

/** The wire form of a derived path. */
export function formatDerivedPath(path: DerivedPath): string {
  if (path.kind === "opaque") return path.path;
  return `${path.drvPath}!${path.outputs === "*" ? "*" : path.outputs.join(",")}`;
}
