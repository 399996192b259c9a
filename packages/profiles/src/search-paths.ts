/**
 * Search paths: the environment variables a profile needs. Guix takes them from package
 * definitions; until Kiln has packages (issue 6), an entry's search paths are derived
 * from the directories its store item has:
 *   PATH ← bin, sbin                       PKG_CONFIG_PATH ← lib/pkgconfig, share/pkgconfig
 *   MANPATH ← share/man                    INFOPATH ← share/info
 *   ACLOCAL_PATH ← share/aclocal
 * `--search-paths` evaluates the union of its entries' specs (PATH always included, as
 * Guix does) against the profile: a variable gets the profile's directories that exist.
 */
import { join } from "node:path";
import type { ProfileManifest, SearchPathSpec } from "./profile-manifest.ts";

export const SEARCH_PATH_SPECS: readonly SearchPathSpec[] = [
  { variable: "PATH", files: ["bin", "sbin"], separator: ":" },
  { variable: "PKG_CONFIG_PATH", files: ["lib/pkgconfig", "share/pkgconfig"], separator: ":" },
  { variable: "MANPATH", files: ["share/man"], separator: ":" },
  { variable: "INFOPATH", files: ["share/info"], separator: ":" },
  { variable: "ACLOCAL_PATH", files: ["share/aclocal"], separator: ":" },
];

/** The specs whose directories `exists` finds (relative to a store item). */
export function searchPathsOf(exists: (relative: string) => boolean): SearchPathSpec[] {
  return SEARCH_PATH_SPECS.filter((spec) => spec.files.some((file) => exists(file)));
}

export interface SearchPathSetting {
  readonly variable: string;
  readonly value: string;
  readonly separator: string;
}

/**
 * Evaluates a manifest's search paths against a profile: `exists(relative)` says whether
 * the profile has that directory, `shown` is how the profile is named in values
 * (`~/.kiln-profile` rather than its generation).
 * @example evaluateSearchPaths(manifest, "/home/ada/.kiln-profile", exists) // [{ variable: "PATH", value: "/home/ada/.kiln-profile/bin", separator: ":" }]
 */
export function evaluateSearchPaths(
  manifest: ProfileManifest,
  shown: string,
  exists: (relative: string) => boolean,
): SearchPathSetting[] {
  const specs = new Map<string, SearchPathSpec>([["PATH", SEARCH_PATH_SPECS[0]]]);
  for (const entry of manifest.entries) {
    for (const spec of entry.searchPaths)
      if (!specs.has(spec.variable)) specs.set(spec.variable, spec);
  }
  const settings: SearchPathSetting[] = [];
  for (const spec of specs.values()) {
    const present = spec.files.filter((file) => exists(file)).map((file) => join(shown, file));
    if (present.length > 0) {
      settings.push({
        variable: spec.variable,
        value: present.join(spec.separator),
        separator: spec.separator,
      });
    }
  }
  return settings;
}

/**
 * One shell line, as Guix prints it: `exact` sets the variable, `prefix` puts the profile's
 * directories before its current value, `suffix` after.
 * @example formatSearchPath({ variable: "PATH", value: "/p/bin", separator: ":" }, "prefix")
 * // 'export PATH="/p/bin${PATH:+:}$PATH"'
 */
export function formatSearchPath(
  setting: SearchPathSetting,
  kind: "exact" | "prefix" | "suffix",
): string {
  const { variable: v, value, separator: s } = setting;
  switch (kind) {
    case "exact":
      return `export ${v}="${value}"`;
    case "prefix":
      return `export ${v}="${value}\${${v}:+${s}}$${v}"`;
    case "suffix":
      return `export ${v}="$${v}\${${v}:+${s}}${value}"`;
  }
}
