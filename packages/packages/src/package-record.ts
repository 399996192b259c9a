/** A package as a recutils record, the way `guix show` prints it. */
import type { License, Package } from "./package.ts";

/** Systems a package without `supportedSystems` is offered for. */
export const defaultSupportedSystems: readonly string[] = [
  "x86_64-linux",
  "aarch64-linux",
  "i686-linux",
  "riscv64-linux",
];

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
 * The record: one `field: value` a line; continuation lines start with `+ `.
 * @example packageRecord(hello, { location: "modules/base.ts" }) // "name: hello\nversion: 2.12\n…"
 */
export function packageRecord(pkg: Package, options: { location?: string } = {}): string {
  const licenses: readonly License[] = Array.isArray(pkg.license)
    ? (pkg.license as readonly License[])
    : [pkg.license as License];
  const dependencies = [
    ...(pkg.inputs ?? []),
    ...(pkg.nativeInputs ?? []),
    ...(pkg.propagatedInputs ?? []),
  ]
    .map((input) => {
      const [dependency, output] = Array.isArray(input)
        ? (input as readonly [Package, string])
        : [input as Package, "out"];
      return `${dependency.name}@${dependency.version}${output === "out" ? "" : `:${output}`}`;
    })
    .filter((entry, index, all) => all.indexOf(entry) === index)
    .sort();
  const lines = [
    `name: ${pkg.name}`,
    `version: ${pkg.version}`,
    "outputs:",
    ...(pkg.outputs ?? ["out"]).map((output) => `+ ${output}: ${OUTPUT_NOTES[output] ?? output}`),
    `systems: ${(pkg.supportedSystems ?? defaultSupportedSystems).join(" ")}`,
    `dependencies: ${dependencies.join(" ")}`.trimEnd(),
    `location: ${options.location ?? pkg.location ?? "unknown"}`,
    `homepage: ${pkg.homePage ?? ""}`.trimEnd(),
    `license: ${licenses.map((license) => license.name).join(", ")}`,
    `synopsis: ${pkg.synopsis}`,
  ];
  const description = fill(pkg.description, 70);
  lines.push(`description: ${description[0] ?? ""}`.trimEnd());
  for (const line of description.slice(1)) lines.push(`+ ${line}`.trimEnd());
  return `${lines.join("\n")}\n`;
}
