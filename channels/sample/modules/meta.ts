/** Everyday tools and meta-packages built from the rest of the channel. */
import { licenses, type Package } from "@kiln/packages";
import { libcolor, libtext } from "./base.ts";
import { calendarData } from "./data.ts";
import { expectEqual, scriptPackage } from "./script-package.ts";
import { calc, rot13, wordcount } from "./text.ts";

export const todo: Package = scriptPackage({
  name: "todo",
  version: "1.2",
  program: [
    "#!/bin/sh",
    "# todo add TEXT | list | done N: a to-do list in $TODO_FILE (default ~/.todo).",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    'f="${TODO_FILE:-$HOME/.todo}"',
    'case "$1" in',
    '  add) shift; echo "$*" >> "$f" ;;',
    '  list) [ -f "$f" ] && nl -w1 -s": " "$f" ;;',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    '  done) sed -i "${2}d" "$f" ;;',
    '  *) echo "usage: todo add TEXT | list | done N" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n"),
  test: [
    'export TODO_FILE="$PWD/t"',
    "todo add write tests; todo add ship",
    "todo done 1",
    expectEqual("todo list", "1: ship"),
  ].join("\n"),
  synopsis: "Keep a to-do list",
  description: "Todo keeps a numbered to-do list in a text file.",
});

export const notes: Package = scriptPackage({
  name: "notes",
  version: "0.4",
  program: [
    "#!/bin/sh",
    "# notes TITLE: prints TITLE as a heading (libcolor), then standard input.",
    ". @libtext@/lib/libtext.sh",
    '@libcolor@/bin/libcolor plain "$(text_upper "$1")"',
    "cat",
    "",
  ].join("\n"),
  substitute: ["libtext", "libcolor"],
  // Only libcolor is named: libtext comes through libcolor's propagated inputs.
  inputs: [libcolor],
  test: expectEqual("echo body | notes title | head -n 1", "TITLE"),
  synopsis: "Print notes with a heading",
  description:
    "Notes prints a heading and the text of a note.  It uses libtext through libcolor's propagated inputs.",
});

export const remind: Package = scriptPackage({
  name: "remind",
  version: "1.0",
  program: [
    "#!/bin/sh",
    "# remind MM-DD: prints the events of that day and the days left in the year.",
    'grep "^$1 " @calendar-data@/share/calendar/events.txt | cut -d" " -f2-',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    "m=${1%-*}; d=${1#*-}",
    'echo "days left: $(@calc@/bin/calc "365 - (($m - 1) * 30.4 + $d)" | cut -d. -f1)"',
    "",
  ].join("\n"),
  substitute: ["calendar-data", "calc"],
  inputs: [calendarData, calc],
  test: expectEqual("remind 03-14 | head -n 1", "Pi day"),
  synopsis: "Print the events of a day",
  description: "Remind prints the yearly events of a given day from calendar-data.",
});

export const hashTools: Package = scriptPackage({
  name: "hash-tools",
  version: "1.0",
  program: [
    "#!/bin/sh",
    "# hash-tools DIR: one sha256 for a whole directory tree (file names and contents).",
    'cd "$1" && find . -type f | sort | xargs sha256sum | sha256sum | cut -d" " -f1',
    "",
  ].join("\n"),
  test: [
    "mkdir -p a/x b/x; echo 1 > a/x/f; echo 1 > b/x/f",
    'test "$(hash-tools a)" = "$(hash-tools b)"',
    "echo 2 > b/x/f",
    'test "$(hash-tools a)" != "$(hash-tools b)"',
  ].join("\n"),
  synopsis: "Hash directory trees",
  description: "Hash-tools prints one sha256 digest for a whole directory tree.",
  license: licenses.expat,
});

export const archiveTools: Package = scriptPackage({
  name: "archive-tools",
  version: "0.8",
  program: [
    "#!/bin/sh",
    "# archive-tools DIR ARCHIVE: a reproducible tar.gz of DIR (sorted, fixed times and owners).",
    'cd "$1" && tar -c $(find . -type f | sort) | gzip -n > "$2"',
    "",
  ].join("\n"),
  inputs: [hashTools],
  test: [
    "mkdir -p d; echo data > d/f",
    'archive-tools d "$PWD/a.tgz"',
    "mkdir e; tar -xzf a.tgz -C e",
    'test "$(hash-tools d)" = "$(hash-tools e)"',
  ].join("\n"),
  synopsis: "Make tar.gz archives of directories",
  description:
    "Archive-tools packs a directory into a gzip-compressed tar archive; its tests compare trees with hash-tools.",
});

export const secretMessage: Package = scriptPackage({
  name: "secret-message",
  version: "1.0",
  program:
    '#!/bin/sh\n# secret-message: the hidden message, encoded with rot13 at build time.\necho "@MESSAGE@" | @rot13@/bin/rot13\n',
  substitute: ["rot13"],
  inputs: [rot13],
  install:
    'sed -i "s|@MESSAGE@|$(echo \'Reproducible builds\' | rot13)|" "$out/bin/secret-message"',
  test: expectEqual("secret-message", "Reproducible builds"),
  synopsis: "Print a message hidden with rot13",
  description: "Secret-message stores a rot13-encoded message and decodes it when run.",
});

export const shellUtils: Package = {
  name: "shell-utils",
  version: "1.0",
  buildSystem: "trivial",
  arguments: {
    builder: [
      'mkdir -p "$out/share/shell-utils"',
      'echo "$buildInputs" | tr " " "\\n" > "$out/share/shell-utils/members"',
    ].join("\n"),
  },
  propagatedInputs: [libtext, libcolor, wordcount],
  synopsis: "Shell libraries and tools, together",
  description:
    "Shell-utils installs nothing itself: it propagates libtext, libcolor and wordcount.",
  license: licenses.gpl3Plus,
  homePage: "https://kiln.example.org/sample/shell-utils",
};

export const devEnv: Package = {
  name: "dev-env",
  version: "1.0",
  buildSystem: "trivial",
  arguments: {
    builder: [
      // Every propagated tool of shell-utils is on PATH here.
      'test "$(echo "a b" | wordcount)" = 2',
      'test "$(libtext upper x)" = X',
      'mkdir -p "$out/bin"',
      'printf "#!%s sh\\necho dev-env ready\\n" "$builder" > "$out/bin/dev-env"',
      'chmod +x "$out/bin/dev-env"',
    ].join("\n"),
  },
  inputs: [shellUtils],
  synopsis: "Development environment of shell tools",
  description:
    "Dev-env checks that the tools propagated by shell-utils are usable, and installs a launcher.",
  license: licenses.gpl3Plus,
  homePage: "https://kiln.example.org/sample/dev-env",
};
