/** A package as a recutils record, the way `guix show` prints it. */
import { isPackage, type Package } from "./package.ts";
import { type PackageSummary, packageSummary } from "./package-summary.ts";

/** Words filled into lines of at most `width` characters. */
function fill(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    let line = "";
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line !== "") lines.push(line);
    lines.push("");
  }
  lines.pop();
  return lines;
}

const OUTPUT_NOTES: Record<string, string> = {
  out: "everything else",
  doc: "documentation",
  bin: "executables",
  lib: "libraries",
  debug: "debug information",
};

/**
 * The record: one `field: value` a line; continuation lines start with `+ `. Takes a
 * package or its summary (what the evaluation sandbox sends).
 * @example packageRecord(hello, { location: "modules/base.ts" }) // "name: hello\nversion: 2.12\n…"
 */
export function packageRecord(
  pkg: Package | PackageSummary,
  options: { location?: string } = {},
): string {
  const summary = isPackage(pkg) ? packageSummary(pkg) : pkg;
  const lines = [
    `name: ${summary.name}`,
    `version: ${summary.version}`,
    "outputs:",
    ...summary.outputs.map((output) => `+ ${output}: ${OUTPUT_NOTES[output] ?? output}`),
    `systems: ${summary.systems.join(" ")}`,
    `dependencies: ${summary.dependencies.join(" ")}`.trimEnd(),
    `location: ${options.location ?? summary.location ?? "unknown"}`,
    `homepage: ${summary.homePage ?? ""}`.trimEnd(),
    `license: ${summary.licenses.join(", ")}`,
    `synopsis: ${summary.synopsis}`,
  ];
  const description = fill(summary.description, 70);
  lines.push(`description: ${description[0] ?? ""}`.trimEnd());
  for (const line of description.slice(1)) lines.push(`+ ${line}`.trimEnd());
  return `${lines.join("\n")}\n`;
}
