/**
 * A size in binary units, as Guix prints them: `1.2MiB` in substitution progress,
 * `1.2 MiB` (with `separator: " "`) in `weather` reports; bytes are a whole number.
 *
 * @example
 * formatBytes(1536); // "1.5KiB"
 * formatBytes(512, { separator: " " }); // "512 B"
 */
export function formatBytes(bytes: number, options: { separator?: string } = {}): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)}${options.separator ?? ""}${units[unit]}`;
}
