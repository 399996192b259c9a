/** Documents: HTML from text, manual pages, a bundle of the channel's doc outputs. */
import { licenses, type Package } from "@kiln/packages";
import { hello } from "./base.ts";
import { fortuneData, poem } from "./data.ts";
import { csvTools } from "./text.ts";

export const poemHtml: Package = {
  name: "poem-html",
  version: "1.0",
  buildSystem: "trivial",
  arguments: {
    builder: [
      'src="$(find_input poem)/share/poem/poem.txt"',
      'mkdir -p "$out/share/html"',
      '{ echo "<!DOCTYPE html><title>Poem</title><pre>"; sed "s/&/\\&amp;/g; s/</\\&lt;/g" "$src"; echo "</pre>"; } > "$out/share/html/poem.html"',
      'grep -q "the same store path everywhere" "$out/share/html/poem.html"',
    ].join("\n"),
  },
  inputs: [poem],
  synopsis: "Sample poem as an HTML page",
  description: "Poem-html renders the text of poem as an HTML page.",
  license: licenses.ccBySa4,
  homePage: "https://kiln.example.org/sample/poem-html",
};

export const manLite: Package = {
  name: "man-lite",
  version: "0.1",
  source: {
    kind: "text",
    name: "pages.txt",
    text: [
      "hello: print a greeting",
      "banner: print text in a box",
      "calc: evaluate arithmetic",
      "",
    ].join("\n"),
  },
  buildSystem: "gnu",
  arguments: {
    phases: [
      {
        replace: "build",
        body: [
          "mkdir pages",
          "while IFS=: read -r name what; do",
          '  printf ".TH %s 1\\n.SH NAME\\n%s \\\\-%s\\n" "$(echo "$name" | tr a-z A-Z)" "$name" "$what" > "pages/$name.1"',
          "done < pages.txt",
        ].join("\n"),
      },
      { replace: "check", body: 'test "$(ls pages | wc -l)" -eq 3' },
      {
        replace: "install",
        body: 'mkdir -p "$out/share/man/man1"\ncp pages/*.1 "$out/share/man/man1/"',
      },
    ],
  },
  synopsis: "Manual pages for the sample programs",
  description: "Man-lite generates roff manual pages for a few programs of the sample channel.",
  license: licenses.fdl13Plus,
  homePage: "https://kiln.example.org/sample/man-lite",
};

export const docsBundle: Package = {
  name: "docs-bundle",
  version: "1.0",
  buildSystem: "trivial",
  arguments: {
    builder: [
      'mkdir -p "$out/share/doc"',
      "for p in hello csv-tools fortune-data poem; do",
      '  cp -R "$(find_input "$p" doc)/share/doc/." "$out/share/doc/"',
      "done",
      'cp -R "$(find_input man-lite)/share/man" "$out/share/man"',
      'test -f "$out/share/doc/hello/README"',
    ].join("\n"),
  },
  inputs: [[hello, "doc"], [csvTools, "doc"], [fortuneData, "doc"], [poem, "doc"], manLite],
  synopsis: "All the documentation of the sample channel",
  description:
    "Docs-bundle gathers the doc outputs of several packages and the manual pages in one place.",
  license: licenses.fdl13Plus,
  homePage: "https://kiln.example.org/sample/docs-bundle",
};
