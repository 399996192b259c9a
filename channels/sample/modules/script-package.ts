/**
 * A package whose source is one shell program written here: the gnu build system unpacks
 * it, substitutes `@INPUT@` placeholders with input paths, installs it as `bin/NAME` and
 * checks it with `test` (shell code run with the package's `bin` first on PATH).
 */
import type { Input, License, Package } from "@kiln/packages";
import { licenses } from "@kiln/packages";

export interface ScriptPackageSpec {
  readonly name: string;
  readonly version: string;
  /** The program; `@libtext@` is replaced by the path of input `libtext`. */
  readonly program: string;
  /** Shell code run after install; must fail when the program misbehaves. */
  readonly test: string;
  readonly synopsis: string;
  readonly description: string;
  readonly inputs?: readonly Input[];
  readonly propagatedInputs?: readonly Input[];
  readonly license?: License;
  /** Shell code run at the end of install, e.g. to install more files. */
  readonly install?: string;
  /** Output names besides `out`. */
  readonly outputs?: readonly string[];
  /** Inputs whose paths the program refers to (`@name@`). */
  readonly substitute?: readonly string[];
}

export function scriptPackage(spec: ScriptPackageSpec): Package {
  const file = `${spec.name}.sh`;
  const substitutions = (spec.substitute ?? [])
    .map((input) => `sed -i "s|@${input}@|$(find_input ${input})|g" ${file}`)
    .join("\n");
  return {
    name: spec.name,
    version: spec.version,
    source: { kind: "text", name: file, text: spec.program },
    buildSystem: "gnu",
    arguments: {
      phases: [
        { replace: "build", body: `${substitutions}\nchmod +x ${file}` },
        {
          replace: "install",
          body: `mkdir -p "$out/bin"\ncp ${file} "$out/bin/${spec.name}"\n${spec.install ?? ""}`,
        },
        // Checks run the installed program, so they run after install (and patch-shebangs).
        { remove: "check" },
        {
          add: "installcheck",
          after: "patch-shebangs",
          body: `PATH="$out/bin:$PATH"\n${spec.test}`,
        },
      ],
    },
    inputs: spec.inputs,
    propagatedInputs: spec.propagatedInputs,
    outputs: spec.outputs ? ["out", ...spec.outputs] : undefined,
    synopsis: spec.synopsis,
    description: spec.description,
    license: spec.license ?? licenses.gpl3Plus,
    homePage: `https://kiln.example.org/sample/${spec.name}`,
  };
}

/** Fails the check with a message unless `actual` equals `expected` (both shell words). */
export function expectEqual(command: string, expected: string): string {
  return `got="$(${command})"; if [ "$got" != "${expected}" ]; then echo "expected '${expected}' from ${command.replace(/"/g, "")}, got '$got'" >&2; exit 1; fi`;
}
