/** The base of the sample channel: data, hello (two versions and a patched variant), shell libraries. */
import { fileURLToPath } from "node:url";
import { licenses, type Package } from "@kiln/packages";
import { expectEqual, scriptPackage } from "./script-package.ts";

export const greetingData: Package = {
  name: "greeting-data",
  version: "1.0",
  buildSystem: "trivial",
  arguments: {
    builder: [
      'mkdir -p "$out/share/greeting"',
      'echo "Hello from the Kiln sample channel!" > "$out/share/greeting/greeting.txt"',
    ].join("\n"),
  },
  synopsis: "Greeting text used by hello",
  description: "This package provides the greeting that the hello program prints.",
  license: licenses.cc0,
  homePage: "https://kiln.example.org/sample/greeting-data",
};

export const hello: Package = {
  name: "hello",
  version: "2.12",
  source: {
    kind: "local",
    path: fileURLToPath(new URL("../sources/hello", import.meta.url)),
    name: "hello-2.12-source",
  },
  buildSystem: "gnu",
  arguments: {
    phases: [
      {
        add: "set-greeting",
        before: "configure",
        body: 'GREETING_FILE="$(find_input greeting-data)/share/greeting/greeting.txt"; export GREETING_FILE',
      },
    ],
  },
  inputs: [greetingData],
  outputs: ["out", "doc"],
  synopsis: "Hello, Kiln world: an example package",
  description:
    "Hello prints a friendly greeting.  It shows the phases of the gnu build system: configure, build, check and install, with two outputs.",
  license: licenses.gpl3Plus,
  homePage: "https://kiln.example.org/sample/hello",
};

/** An older hello, inheriting everything else: `kiln build hello@2.10`. */
export const hello210: Package = { ...hello, version: "2.10", inputs: [], arguments: {} };

export const helloPatched: Package = {
  ...hello,
  name: "hello-patched",
  arguments: {
    ...hello.arguments,
    patches: [
      {
        kind: "text",
        name: "hello-shout.patch",
        text: [
          "--- a/hello.in",
          "+++ b/hello.in",
          "@@ -3,4 +3,5 @@",
          ' case "$1" in',
          '   -g) echo "$2" ;;',
          '+  --shout) echo "HELLO!" ;;',
          '   --version) echo "hello (kiln sample)" ;;',
          '   *) echo "@MESSAGE@" ;;',
          "",
        ].join("\n"),
      },
    ],
    phases: [
      ...(hello.arguments?.phases ?? []),
      {
        add: "check-shout",
        after: "install",
        body: expectEqual('sh "$out/bin/hello" --shout', "HELLO!"),
      },
    ],
  },
  synopsis: "Hello with a patch that makes it shout",
  description: "This variant of hello shows patches and phases added to an inherited package.",
};

export const libtext: Package = scriptPackage({
  name: "libtext",
  version: "1.2",
  program: [
    "#!/bin/sh",
    "# libtext: text functions for shell programs; source lib/libtext.sh, or run libtext FN ARGS.",
    'text_upper () { echo "$*" | tr a-z A-Z; }',
    'text_lower () { echo "$*" | tr A-Z a-z; }',
    'text_repeat () { n="$1"; shift; i=0; r=""; while [ "$i" -lt "$n" ]; do r="$r$*"; i=$((i+1)); done; echo "$r"; }',
    'text_reverse () { echo "$*" | rev; }',
    'if [ -n "$1" ]; then fn="$1"; shift; "text_$fn" "$@"; fi',
    "",
  ].join("\n"),
  test: [
    expectEqual("libtext upper abc", "ABC"),
    expectEqual("libtext repeat 3 ab", "ababab"),
    expectEqual("libtext reverse abc", "cba"),
    '. "$out/lib/libtext.sh"',
    expectEqual("text_lower ABC", "abc"),
  ].join("\n"),
  // The library is the program without its last line (the command dispatch).
  install: 'mkdir -p "$out/lib"\nsed "\\$d" libtext.sh > "$out/lib/libtext.sh"',
  synopsis: "Text functions for shell programs",
  description:
    "Libtext provides functions to change case, repeat and reverse text in shell programs.",
});

export const libcolor: Package = scriptPackage({
  name: "libcolor",
  version: "0.3",
  program: [
    "#!/bin/sh",
    "# libcolor: wraps text in ANSI colours, using libtext for upper-case titles.",
    ". @libtext@/lib/libtext.sh",
    'esc="$(printf "\\033")"',
    'color_title () { printf "%s[1m%s%s[0m\\n" "$esc" "$(text_upper "$*")" "$esc"; }',
    'color_plain () { echo "$*"; }',
    'if [ -n "$1" ]; then fn="$1"; shift; "color_$fn" "$@"; fi',
    "",
  ].join("\n"),
  substitute: ["libtext"],
  test: expectEqual("libcolor plain x", "x"),
  propagatedInputs: [libtext],
  synopsis: "Coloured text for shell programs",
  description: "Libcolor wraps text in terminal colours.  It propagates libtext, which it uses.",
  license: licenses.expat,
});
