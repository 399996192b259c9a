/**
 * `passAsFile`, as Nix 2.8 implements it: each attribute named in the derivation's
 * `passAsFile` (whitespace-separated) is not put in the environment; its value is
 * written to `.attr-<nix32 sha256 of the name>` in the build tree, and `<name>Path`
 * holds that file's path as the builder sees it. Used for values too large for the
 * environment (e.g. nixpkgs' `writeText`).
 */

import { sha256 } from "@kiln/formats/hash";
import { encodeNix32 } from "@kiln/formats/nix32";

export interface PassAsFile {
  /** The derivation's environment without the attributes passed as files, with `<name>Path` added. */
  readonly env: Record<string, string>;
  /** File name in the build tree → contents. */
  readonly files: Map<string, string>;
}

/**
 * Splits `drvEnv` into what goes into the environment and what goes into files, for a
 * build tree that the builder sees at `buildTop`.
 *
 * @example
 * passAsFile({ passAsFile: "text", text: "hello" }, "/build").env.textPath
 * // "/build/.attr-<nix32 of sha256("text")>"
 */
export function passAsFile(drvEnv: Readonly<Record<string, string>>, buildTop: string): PassAsFile {
  const names = new Set(
    (drvEnv.passAsFile ?? "").split(/[ \t\n\r]+/).filter((name) => name !== ""),
  );
  const env: Record<string, string> = {};
  const files = new Map<string, string>();
  for (const [name, value] of Object.entries(drvEnv)) {
    if (!names.has(name)) {
      env[name] = value;
      continue;
    }
    const file = `.attr-${encodeNix32(sha256(name))}`;
    files.set(file, value);
    env[`${name}Path`] = `${buildTop}/${file}`;
  }
  return { env, files };
}
