/**
 * What `kiln package -i/-r` does to a manifest, as Guix's manifest transactions: an
 * installed entry replaces any entry with the same name and output; a removal pattern
 * `NAME[@VERSION][:OUTPUT]` (output `out` by default) must match something. Pure.
 */
import { ProfileError } from "./profile-error.ts";
import type { ManifestEntry, ProfileManifest } from "./profile-manifest.ts";

export interface RemovalPattern {
  readonly name: string;
  readonly version?: string;
  readonly output: string;
}

/**
 * @example parseRemovalPattern("guile@3.0.9:debug") // { name: "guile", version: "3.0.9", output: "debug" }
 */
export function parseRemovalPattern(spec: string): RemovalPattern {
  const colon = spec.lastIndexOf(":");
  const nameVersion = colon < 0 ? spec : spec.slice(0, colon);
  const output = colon < 0 ? "out" : spec.slice(colon + 1);
  const at = nameVersion.lastIndexOf("@");
  const name = at <= 0 ? nameVersion : nameVersion.slice(0, at);
  const version = at <= 0 ? undefined : nameVersion.slice(at + 1);
  if (name === "" || output === "") {
    throw new ProfileError("BAD_SPEC", `invalid package specification: ${JSON.stringify(spec)}`);
  }
  return version === undefined ? { name, output } : { name, version, output };
}

const matches = (entry: ManifestEntry, pattern: RemovalPattern) =>
  entry.name === pattern.name &&
  entry.output === pattern.output &&
  (pattern.version === undefined || entry.version === pattern.version);

/**
 * The manifest after removing `remove` and installing `install`.
 * @example applyPackageTransaction(manifest, { install: [entry], remove: [] })
 */
export function applyPackageTransaction(
  manifest: ProfileManifest,
  change: { install?: readonly ManifestEntry[]; remove?: readonly RemovalPattern[] },
): ProfileManifest {
  let entries = [...manifest.entries];
  for (const pattern of change.remove ?? []) {
    if (!entries.some((entry) => matches(entry, pattern))) {
      const shown = `${pattern.name}${pattern.version ? `@${pattern.version}` : ""}${pattern.output === "out" ? "" : `:${pattern.output}`}`;
      throw new ProfileError("PACKAGE_NOT_FOUND", `package '${shown}' not found in profile`);
    }
    entries = entries.filter((entry) => !matches(entry, pattern));
  }
  for (const entry of change.install ?? []) {
    entries = entries.filter((old) => !(old.name === entry.name && old.output === entry.output));
    entries.push(entry);
  }
  return { entries };
}
