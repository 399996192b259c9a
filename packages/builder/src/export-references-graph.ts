/**
 * `exportReferencesGraph`, as Nix 2.8 implements it: the attribute holds pairs
 * `NAME PATH …`; for each, the build tree gets a file NAME describing the closure of
 * PATH (which must be in the build's input closure), plus, when that closure holds
 * derivations, the closures of their outputs. The format is `nix-store
 * --register-validity`'s without hashes or derivers: per path, sorted, the path, an
 * empty line, the number of references, then the references, sorted.
 */
import type { Derivation } from "@kiln/formats/derivation";
import { BuilderError } from "./builder-error.ts";

export interface ExportReferencesGraphOptions {
  readonly storeDir: string;
  /** Valid (or about to be) paths and their references. */
  readonly db: { isValidPath(path: string): boolean; references(path: string): string[] };
  readDerivation(drvPath: string): Derivation;
  /** The build's input closure: only its paths may be exported. */
  readonly inputs: readonly string[];
}

export interface ExportedReferences {
  /** File name in the build tree → contents. */
  readonly files: Map<string, string>;
  /** Every exported path, sorted: the build must see them too. */
  readonly paths: string[];
}

// Nix's pattern for the file names.
const FILE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * The files that `exportReferencesGraph` asks for (none when the attribute is absent).
 * Throws BuilderError `ERR_BAD_DERIVATION` for a malformed attribute or a path outside
 * the input closure.
 *
 * @example
 * exportReferencesGraph(drvPath, drv, { storeDir, db, readDerivation, inputs }).files.get("refs")
 * // "/nix/store/…-foo\n\n1\n/nix/store/…-bar\n/nix/store/…-bar\n\n0\n"
 */
export function exportReferencesGraph(
  drvPath: string,
  drv: Derivation,
  options: ExportReferencesGraphOptions,
): ExportedReferences {
  const files = new Map<string, string>();
  const everything = new Set<string>();
  const attribute = drv.env.get("exportReferencesGraph");
  if (attribute === undefined) return { files, paths: [] };
  const tokens = attribute.split(/[ \t\n\r]+/).filter((token) => token !== "");
  if (tokens.length % 2 !== 0) {
    throw new BuilderError(
      "ERR_BAD_DERIVATION",
      `odd number of tokens in 'exportReferencesGraph' of ${drvPath}: '${attribute}'`,
    );
  }
  const inputs = new Set(options.inputs);
  for (let i = 0; i < tokens.length; i += 2) {
    const fileName = tokens[i];
    if (!FILE_NAME.test(fileName)) {
      throw new BuilderError(
        "ERR_BAD_DERIVATION",
        `invalid file name '${fileName}' in 'exportReferencesGraph' of ${drvPath}`,
      );
    }
    const storePath = toStorePath(tokens[i + 1], options.storeDir, drvPath);
    if (!inputs.has(storePath)) {
      throw new BuilderError(
        "ERR_BAD_DERIVATION",
        `cannot export references of path '${storePath}' because it is not in the input closure of the derivation ${drvPath}`,
      );
    }
    const paths = closure([storePath], options.db);
    // The outputs of derivations in the graph too (e.g. all build-time dependencies).
    for (const path of [...paths]) {
      if (!path.endsWith(".drv")) continue;
      const outputs = [...options.readDerivation(path).outputs.values()].map((o) => o.path);
      for (const output of closure(outputs, options.db)) paths.add(output);
    }
    files.set(fileName, validityRegistration([...paths].sort(), options.db));
    for (const path of paths) everything.add(path);
  }
  return { files, paths: [...everything].sort() };
}

/** `/nix/store/…-foo/bin/sh` → `/nix/store/…-foo`. */
function toStorePath(path: string, storeDir: string, drvPath: string): string {
  const prefix = `${storeDir}/`;
  const rest = path.startsWith(prefix) ? path.slice(prefix.length) : "";
  const name = rest.split("/")[0];
  if (name === "" || name.startsWith(".")) {
    throw new BuilderError(
      "ERR_BAD_DERIVATION",
      `'exportReferencesGraph' of ${drvPath} contains a non-store path '${path}'`,
    );
  }
  return prefix + name;
}

function closure(roots: readonly string[], db: ExportReferencesGraphOptions["db"]): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue;
    if (!db.isValidPath(path)) {
      throw new BuilderError(
        "ERR_MISSING_INPUT",
        `cannot export the references of ${path}: it is not valid`,
        { hint: "build it first" },
      );
    }
    seen.add(path);
    for (const reference of db.references(path)) if (!seen.has(reference)) pending.push(reference);
  }
  return seen;
}

function validityRegistration(
  paths: readonly string[],
  db: ExportReferencesGraphOptions["db"],
): string {
  let text = "";
  for (const path of paths) {
    const references = [...db.references(path)].sort();
    text += `${path}\n\n${references.length}\n`;
    for (const reference of references) text += `${reference}\n`;
  }
  return text;
}
