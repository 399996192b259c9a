/**
 * The file `kiln package -m FILE` reads: the complete list of what the profile should
 * hold. Either JSON — an array of specifications, or `{ "packages": [...] }` — or plain
 * text with one specification per line (blank lines and `#` comments ignored). A
 * specification is a store path, or a `.drv` path optionally followed by `:OUTPUT`
 * (`/gnu/store/…-hello-2.12.drv:out`; all its outputs without one). Pure.
 */
import { ProfileError } from "./profile-error.ts";

/**
 * @example parsePackageList("# tools\n/gnu/store/…-hello-2.12\n") // ["/gnu/store/…-hello-2.12"]
 */
export function parsePackageList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (cause) {
      throw new ProfileError("BAD_MANIFEST_FILE", "the manifest file is not valid JSON", { cause });
    }
    const list = Array.isArray(json) ? json : (json as { packages?: unknown }).packages;
    if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
      throw new ProfileError(
        "BAD_MANIFEST_FILE",
        'the manifest file must be a JSON array of strings or { "packages": [ … ] }',
      );
    }
    return list;
  }
  return text
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
}
