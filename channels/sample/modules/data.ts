/** Data packages: fortunes, a calendar, license texts, a poem. */
import { licenses, type Package } from "@kiln/packages";

/** A trivial package writing `files` (path → text) under `$out`, and `docFiles` under `$doc`. */
function dataPackage(
  spec: Omit<Package, "buildSystem" | "arguments"> & {
    files: Record<string, string>;
    docFiles?: Record<string, string>;
  },
): Package {
  const { files, docFiles, ...rest } = spec;
  const write = (output: string, entries: Record<string, string>) =>
    Object.entries(entries).flatMap(([path, text]) => [
      `mkdir -p "$(dirname "$${output}/${path}")"`,
      `cat > "$${output}/${path}" <<'KILN_EOF'\n${text}\nKILN_EOF`,
    ]);
  return {
    ...rest,
    buildSystem: "trivial",
    outputs: docFiles ? ["out", "doc"] : undefined,
    arguments: { builder: [...write("out", files), ...write("doc", docFiles ?? {})].join("\n") },
  };
}

export const fortuneData: Package = dataPackage({
  name: "fortune-data",
  version: "2024.1",
  files: {
    "share/fortunes/fortunes.txt": [
      "A build is a function of its inputs.",
      "Sources are pinned by their hash.",
      "The store never forgets, until the collector runs.",
      "Every derivation deserves a sandbox.",
    ].join("\n"),
  },
  docFiles: { "share/doc/fortune-data/README": "Sayings collected for the Kiln sample channel." },
  synopsis: "Sayings for the fortune program",
  description: "Fortune-data is a small collection of sayings about functional package management.",
  license: licenses.cc0,
  homePage: "https://kiln.example.org/sample/fortune-data",
});

export const calendarData: Package = dataPackage({
  name: "calendar-data",
  version: "2026",
  files: {
    "share/calendar/events.txt": ["01-01 New year", "03-14 Pi day", "12-25 Winter holiday"].join(
      "\n",
    ),
  },
  synopsis: "Dates of yearly events",
  description: "Calendar-data lists yearly events as month-day pairs for the remind program.",
  license: licenses.cc0,
  homePage: "https://kiln.example.org/sample/calendar-data",
});

export const licenseTexts: Package = dataPackage({
  name: "license-texts",
  version: "1.0",
  files: {
    "share/licenses/CC0":
      "CC0 1.0: the person who associated a work with this deed has dedicated it to the public domain.",
    "share/licenses/MIT":
      "Permission is hereby granted, free of charge, to any person obtaining a copy of this software.",
  },
  synopsis: "Short texts of common licenses",
  description: "License-texts holds short summaries of common free licenses.",
  license: licenses.cc0,
  homePage: "https://kiln.example.org/sample/license-texts",
});

export const poem: Package = dataPackage({
  name: "poem",
  version: "1.0",
  files: {
    "share/poem/poem.txt": [
      "Inputs in, outputs out,",
      "hashes settle every doubt;",
      "build it here or build it there,",
      "the same store path everywhere.",
    ].join("\n"),
  },
  docFiles: { "share/doc/poem/NOTES": "Written for the Kiln sample channel." },
  synopsis: "Short poem about reproducible builds",
  description: "Poem is a four-line poem, with notes in its doc output.",
  license: licenses.ccBySa4,
  homePage: "https://kiln.example.org/sample/poem",
});
