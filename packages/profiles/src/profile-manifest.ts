/**
 * The manifest of a profile: what it contains. It is the `manifest` file at the top of
 * every profile store item (as in Guix, though Guix writes an S-expression), in JSON:
 *
 *   { "version": 1,
 *     "entries": [ { "name": "hello", "version": "2.12", "output": "out",
 *                    "item": "/gnu/store/…-hello-2.12",
 *                    "searchPaths": [ { "variable": "PATH", "files": ["bin"], "separator": ":" } ] } ] }
 *
 * `searchPaths` are the environment variables the entry needs (search-paths.ts says how
 * they are derived); `--search-paths` evaluates them against the profile.
 */
import { ProfileError } from "./profile-error.ts";

export interface SearchPathSpec {
  readonly variable: string;
  /** Directories relative to the profile, e.g. `bin`, `lib/pkgconfig`. */
  readonly files: readonly string[];
  readonly separator: string;
}

export interface ManifestEntry {
  readonly name: string;
  readonly version: string;
  readonly output: string;
  /** The store path installed. */
  readonly item: string;
  readonly searchPaths: readonly SearchPathSpec[];
}

export interface ProfileManifest {
  readonly entries: readonly ManifestEntry[];
}

export const EMPTY_MANIFEST: ProfileManifest = Object.freeze({ entries: [] });

/** The manifest as the bytes written into the profile (stable: same manifest, same bytes). */
export function formatProfileManifest(manifest: ProfileManifest): string {
  const entries = manifest.entries.map((entry) => ({
    name: entry.name,
    version: entry.version,
    output: entry.output,
    item: entry.item,
    searchPaths: entry.searchPaths.map((spec) => ({
      variable: spec.variable,
      files: [...spec.files],
      separator: spec.separator,
    })),
  }));
  return `${JSON.stringify({ version: 1, entries }, null, 1)}\n`;
}

const isString = (value: unknown): value is string => typeof value === "string";

/**
 * Reads a manifest written by formatProfileManifest, checking its shape.
 * @example parseProfileManifest(readFileSync(`${profileItem}/manifest`, "utf8")).entries
 */
export function parseProfileManifest(text: string): ProfileManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ProfileError("BAD_MANIFEST", "the profile manifest is not valid JSON", { cause });
  }
  const bad = (why: string) => new ProfileError("BAD_MANIFEST", `the profile manifest ${why}`);
  if (typeof json !== "object" || json === null) throw bad("is not an object");
  const { version, entries } = json as { version?: unknown; entries?: unknown };
  if (version !== 1) throw bad(`has version ${JSON.stringify(version)}, expected 1`);
  if (!Array.isArray(entries)) throw bad("has no entries list");
  return {
    entries: entries.map((raw, index) => {
      const entry = raw as Record<string, unknown>;
      for (const key of ["name", "version", "output", "item"]) {
        if (!isString(entry?.[key])) throw bad(`entry ${index} has no string ${key}`);
      }
      const searchPaths = Array.isArray(entry.searchPaths) ? entry.searchPaths : [];
      return {
        name: entry.name as string,
        version: entry.version as string,
        output: entry.output as string,
        item: entry.item as string,
        searchPaths: searchPaths.map((spec: Record<string, unknown>) => {
          if (!isString(spec?.variable) || !Array.isArray(spec.files) || !isString(spec.separator))
            throw bad(`entry ${index} has a malformed search path`);
          return {
            variable: spec.variable,
            files: spec.files.filter(isString),
            separator: spec.separator,
          };
        }),
      };
    }),
  };
}
