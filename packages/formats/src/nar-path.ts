/**
 * Paths inside a NAR as the user writes them (`nix nar ls ARCHIVE /bin/sh`) mapped to the
 * form `parseNar` reports (`bin/sh`, the root being `""`).
 */

/**
 * Drops leading, trailing and doubled slashes and `.` components.
 * @example normalizeNarPath("/bin//./sh/") // "bin/sh"
 */
export function normalizeNarPath(path: string): string {
  return path
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}

/** True when `path` is `ancestor` or lies below it (both normalised). */
export function isNarPathWithin(path: string, ancestor: string): boolean {
  return ancestor === "" || path === ancestor || path.startsWith(`${ancestor}/`);
}
