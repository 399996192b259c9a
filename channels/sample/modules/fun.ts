/** Toys: fortunes, a talking cow, and programs that combine them. */
import { licenses, type Package } from "@kiln/packages";
import { hello, libcolor } from "./base.ts";
import { fortuneData } from "./data.ts";
import { expectEqual, scriptPackage } from "./script-package.ts";
import { banner } from "./text.ts";

export const fortune: Package = scriptPackage({
  name: "fortune",
  version: "1.0",
  program: [
    "#!/bin/sh",
    "# fortune [N]: prints fortune number N (default: chosen by the current second).",
    "file=@fortune-data@/share/fortunes/fortunes.txt",
    'count=$(grep -c . "$file")',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    "n=${1:-$(( $(date +%s) % count + 1 ))}",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
    'sed -n "${n}p" "$file"',
    "",
  ].join("\n"),
  substitute: ["fortune-data"],
  propagatedInputs: [fortuneData],
  test: expectEqual("fortune 1", "A build is a function of its inputs."),
  synopsis: "Print a fortune",
  description: "Fortune prints one of the sayings from fortune-data, which it propagates.",
});

export const cowsayLite: Package = scriptPackage({
  name: "cowsay-lite",
  version: "0.5",
  program: [
    "#!/bin/sh",
    "# cowsay-lite TEXT: a cow says TEXT (or standard input).",
    't="$*"; if [ -z "$t" ]; then t="$(cat)"; fi',
    'echo " $(echo "$t" | sed "s/./_/g")__"',
    'echo "< $t >"',
    'echo "        \\\\   ^__^"',
    'echo "         \\\\  (oo)\\\\_______"',
    'echo "            (__)\\\\       )\\\\/\\\\"',
    "",
  ].join("\n"),
  test: expectEqual("cowsay-lite moo | sed -n 2p", "< moo >"),
  synopsis: "Draw a cow saying things",
  description: "Cowsay-lite draws a cow saying the text given as arguments or on standard input.",
});

export const fortuneCow: Package = scriptPackage({
  name: "fortune-cow",
  version: "1.0",
  program:
    '#!/bin/sh\n# fortune-cow [N]: the cow says a fortune.\n@fortune@/bin/fortune "$@" | @cowsay-lite@/bin/cowsay-lite\n',
  substitute: ["fortune", "cowsay-lite"],
  inputs: [fortune, cowsayLite],
  // fortune-data reached this build only through fortune's propagated inputs.
  test: [
    'test -f "$(find_input fortune-data)/share/fortunes/fortunes.txt"',
    expectEqual("fortune-cow 2 | sed -n 2p", "< Sources are pinned by their hash. >"),
  ].join("\n"),
  synopsis: "Cow that tells fortunes",
  description: "Fortune-cow pipes a fortune into cowsay-lite.",
});

export const greetAll: Package = scriptPackage({
  name: "greet-all",
  version: "1.0",
  program: [
    "#!/bin/sh",
    "# greet-all: greets in every style the channel knows.",
    "@hello@/bin/hello",
    '@banner@/bin/banner "$(@hello@/bin/hello)"',
    '@libcolor@/bin/libcolor title "hello"',
    "",
  ].join("\n"),
  substitute: ["hello", "banner", "libcolor"],
  inputs: [hello, banner, libcolor],
  test: expectEqual("greet-all | head -n 1", "Hello from the Kiln sample channel!"),
  synopsis: "Greet in every style",
  description: "Greet-all prints the greeting of hello plainly, in a banner and in colour.",
  license: licenses.expat,
});
