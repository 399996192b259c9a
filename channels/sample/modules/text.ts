/** Text tools: counting, ciphers, banners, CSV, arithmetic. */
import { licenses, type Package } from "@kiln/packages";
import { libtext } from "./base.ts";
import { expectEqual, scriptPackage } from "./script-package.ts";

export const wordcount: Package = scriptPackage({
  name: "wordcount",
  version: "1.0",
  program:
    '#!/bin/sh\n# wordcount: prints the number of words on standard input.\ntr -s " \\t" "\\n\\n" | grep -c .\n',
  test: expectEqual('echo "one two  three" | wordcount', "3"),
  synopsis: "Count the words of a text",
  description: "Wordcount reads a text on standard input and prints how many words it has.",
});

export const rot13: Package = scriptPackage({
  name: "rot13",
  version: "1.1",
  program: "#!/bin/sh\n# rot13: the classic letter rotation.\ntr A-Za-z N-ZA-Mn-za-m\n",
  test: expectEqual("echo Hello | rot13", "Uryyb"),
  synopsis: "Rotate letters by 13 places",
  description:
    "Rot13 rotates every letter of its input by 13 places; applying it twice gives the text back.",
});

export const caesar: Package = scriptPackage({
  name: "caesar",
  version: "0.9",
  program: [
    "#!/bin/sh",
    "# caesar N: rotates letters by N places (0-25), upper-casing with libtext when -u is given.",
    ". @libtext@/lib/libtext.sh",
    'upper=; if [ "$1" = -u ]; then upper=1; shift; fi',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    "n=$(( ${1:-3} % 26 ))",
    "a=abcdefghijklmnopqrstuvwxyz",
    'to="$(echo "$a" | cut -c$((n+1))-26)$(echo "$a" | cut -c1-$n)"',
    "while IFS= read -r line; do",
    '  line="$(echo "$line" | tr "$a" "$to")"',
    '  if [ -n "$upper" ]; then text_upper "$line"; else echo "$line"; fi',
    "done",
    "",
  ].join("\n"),
  substitute: ["libtext"],
  inputs: [libtext],
  test: [
    expectEqual("echo abc | caesar 1", "bcd"),
    expectEqual("echo xyz | caesar -u 3", "ABC"),
  ].join("\n"),
  synopsis: "Shift letters by a chosen number of places",
  description:
    "Caesar applies the Caesar cipher with any shift, and can print the result in capitals.",
});

export const banner: Package = scriptPackage({
  name: "banner",
  version: "2.0",
  program: [
    "#!/bin/sh",
    "# banner TEXT: prints TEXT in capitals inside a box.",
    ". @libtext@/lib/libtext.sh",
    't="$(text_upper "$*")"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    'line="+-$(text_repeat ${#t} -)-+"',
    'echo "$line"; echo "| $t |"; echo "$line"',
    "",
  ].join("\n"),
  substitute: ["libtext"],
  inputs: [libtext],
  test: expectEqual("banner hi | sed -n 2p", "| HI |"),
  synopsis: "Print text in a box",
  description: "Banner prints its arguments in capital letters inside a box of dashes.",
});

export const calc: Package = scriptPackage({
  name: "calc",
  version: "1.4",
  program:
    '#!/bin/sh\n# calc EXPR: evaluates an arithmetic expression with awk.\nawk "BEGIN { print $* }"\n',
  test: [expectEqual("calc 6 \\* 7", "42"), expectEqual("calc 1/4", "0.25")].join("\n"),
  synopsis: "Evaluate arithmetic expressions",
  description:
    "Calc evaluates the arithmetic expression given as its arguments and prints the result.",
});

export const unitsLite: Package = scriptPackage({
  name: "units-lite",
  version: "0.2",
  program: [
    "#!/bin/sh",
    "# units-lite VALUE FROM TO: converts lengths between km, m, cm and mi.",
    'factor () { case "$1" in km) echo 1000 ;; m) echo 1 ;; cm) echo 0.01 ;; mi) echo 1609.344 ;; *) echo "unknown unit $1" >&2; exit 1 ;; esac; }',
    'calc "$1 * $(factor "$2") / $(factor "$3")"',
    "",
  ].join("\n"),
  propagatedInputs: [calc],
  test: expectEqual("units-lite 2 km m", "2000"),
  synopsis: "Convert lengths between units",
  description:
    "Units-lite converts a length between kilometres, metres, centimetres and miles.  It runs calc, which it propagates.",
});

export const csvTools: Package = scriptPackage({
  name: "csv-tools",
  version: "3.1",
  program: [
    "#!/bin/sh",
    "# csv-tools cut N | count | sum N: small operations on comma-separated values.",
    'cmd="$1"; shift',
    'case "$cmd" in',
    '  cut) cut -d, -f"$1" ;;',
    "  count) grep -c . ;;",
    '  sum) cut -d, -f"$1" | awk "{ s += \\$1 } END { print s }" ;;',
    '  *) echo "usage: csv-tools cut N | count | sum N" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n"),
  outputs: ["doc"],
  install: [
    'mkdir -p "$doc/share/doc/csv-tools"',
    'echo "csv-tools: cut, count and sum columns of CSV files." > "$doc/share/doc/csv-tools/README"',
  ].join("\n"),
  test: [
    expectEqual("printf 'a,1\\nb,2\\n' | csv-tools sum 2", "3"),
    expectEqual("printf 'a,1\\nb,2\\n' | csv-tools cut 1 | tr -d '\\n'", "ab"),
  ].join("\n"),
  synopsis: "Cut, count and sum CSV columns",
  description:
    "Csv-tools cuts, counts and sums the columns of comma-separated values.  Its manual is in the doc output.",
  license: licenses.asl2,
});

export const csvReport: Package = scriptPackage({
  name: "csv-report",
  version: "1.0",
  program: [
    "#!/bin/sh",
    "# csv-report FILE: prints the number of rows and the total of the second column.",
    'echo "rows: $(csv-tools count < "$1")"',
    'echo "total: $(csv-tools sum 2 < "$1")"',
    "",
  ].join("\n"),
  propagatedInputs: [csvTools],
  test: [
    "printf 'x,5\\ny,6\\n' > t.csv",
    expectEqual("csv-report t.csv | tail -n 1", "total: 11"),
  ].join("\n"),
  synopsis: "Summarise a CSV file",
  description: "Csv-report prints the row count and column total of a CSV file, using csv-tools.",
});
