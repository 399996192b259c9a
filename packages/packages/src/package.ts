/**
 * The package API: packages are plain, immutable values, so inheriting one is a spread
 * (`{ ...hello, version: "2.13", source: … }`), as Guix's `(package (inherit hello) …)`.
 * Nothing here touches the store; lowerPackage turns a package into derivations.
 */

/** Where a package's source comes from. */
export type Origin =
  /** Fetched by a fixed-output derivation, pinned by the sha256 of the file (nix32 or hex). */
  | {
      readonly kind: "url";
      readonly url: string;
      readonly sha256: string;
      /** Store name of the download; the URL's last component by default. */
      readonly fileName?: string;
    }
  /** A file or directory of the channel, added to the store as is (recursive NAR hash). */
  | { readonly kind: "local"; readonly path: string; readonly name?: string }
  /** A git checkout at `commit`, pinned by the sha256 of its tree without `.git` (NAR hash). */
  | {
      readonly kind: "git";
      readonly url: string;
      readonly commit: string;
      readonly sha256: string;
      readonly name?: string;
    }
  /** A file whose text is written in the package module (Guix's `plain-file`). */
  | { readonly kind: "text"; readonly name: string; readonly text: string };

export interface License {
  /** SPDX-like identifier, e.g. `GPL-3.0-or-later`. */
  readonly name: string;
  readonly uri: string;
}

/** Edits of a phased build system's phase list, applied in order (see modifyPhases). */
export type PhaseEdit =
  | { readonly add: string; readonly after: string; readonly body: string }
  | { readonly add: string; readonly before: string; readonly body: string }
  | { readonly replace: string; readonly body: string }
  | { readonly remove: string };

/** Arguments of the build systems; each reads the ones it knows. */
export interface BuildArguments {
  /** `trivial`: the shell script that builds every output. */
  readonly builder?: string;
  /** `gnu`: edits of the standard phases. */
  readonly phases?: readonly PhaseEdit[];
  readonly configureFlags?: readonly string[];
  readonly makeFlags?: readonly string[];
  /** `gnu`: run the `check` phase (default true). */
  readonly tests?: boolean;
  /** `gnu`: patches applied by the `patch` phase with `patch -p1`. */
  readonly patches?: readonly Origin[];
  /** Extra environment variables of the build. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A package, or a package and one of its outputs (`[glib, "bin"]`). */
export type Input = Package | readonly [Package, string];

export type BuildSystemName = "trivial" | "gnu";

export interface Package {
  readonly name: string;
  readonly version: string;
  readonly source?: Origin;
  readonly buildSystem: BuildSystemName;
  readonly arguments?: BuildArguments;
  /** Inputs for the target system. */
  readonly inputs?: readonly Input[];
  /** Inputs that run on the build machine (tools). */
  readonly nativeInputs?: readonly Input[];
  /** Inputs that every package using this one gets as well. */
  readonly propagatedInputs?: readonly Input[];
  /** Output names; `["out"]` by default, `out` first. */
  readonly outputs?: readonly string[];
  readonly synopsis: string;
  readonly description: string;
  readonly license: License | readonly License[];
  readonly homePage?: string;
  /** Systems the package builds for; every system when absent. */
  readonly supportedSystems?: readonly string[];
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  /** Where the package is defined (module path), filled in when a channel is loaded. */
  readonly location?: string;
}

/** `name-version`, the name of its derivation and output paths. */
export function packageFullName(pkg: Package): string {
  return `${pkg.name}-${pkg.version}`;
}

/** A value that looks like a package: used to find packages among a module's exports. */
export function isPackage(value: unknown): value is Package {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.name === "string" &&
    typeof candidate.version === "string" &&
    (candidate.buildSystem === "trivial" || candidate.buildSystem === "gnu")
  );
}
