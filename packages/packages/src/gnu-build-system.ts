/**
 * The phased build system, in the spirit of Guix's `gnu-build-system`: the builder is a
 * shell script, run by the bootstrap busybox, that runs the phases in order. A phase that
 * fails stops the build (`set -e`) after saying which phase it was.
 */
import { modifyPhases, type Phase } from "./modify-phases.ts";
import type { BuildArguments } from "./package.ts";

/** The standard phases. Each one does nothing when the source does not call for it. */
export const standardPhases: readonly Phase[] = [
  {
    name: "unpack",
    body: [
      'if [ -d "$src" ]; then cp -R "$src"/. .; chmod -R u+w .',
      'elif [ -n "$src" ]; then',
      '  case "$src" in',
      '    *.tar.gz|*.tgz) tar xzf "$src" ;;',
      '    *.tar.xz) tar xJf "$src" ;;',
      '    *.tar) tar xf "$src" ;;',
      // A single file keeps its store name without the hash: `/gnu/store/…-hello.sh` → `hello.sh`.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell code, not a template
      '    *) f="${src##*/}"; f="${f#*-}"; cp "$src" "./$f"; chmod u+w "./$f" ;;',
      "  esac",
      // A tarball with one top directory: build inside it, as gnu-build-system does.
      '  set -- */; if [ $# -eq 1 ] && [ -d "$1" ] && [ "$(ls -A | wc -l)" -eq 1 ]; then cd "$1"; fi',
      "fi",
    ].join("\n"),
  },
  { name: "patch", body: 'for p in $patches; do echo "applying $p"; patch -p1 < "$p"; done' },
  {
    name: "configure",
    body: 'if [ -f ./configure ]; then sh ./configure --prefix="$out" $configureFlags; fi',
  },
  {
    name: "build",
    body: [
      "if [ -f Makefile ] && command -v make >/dev/null; then make $makeFlags",
      "elif [ -f ./build.sh ]; then sh ./build.sh",
      "fi",
    ].join("\n"),
  },
  {
    name: "check",
    body: [
      'if [ "$doCheck" != 1 ]; then echo "tests disabled"',
      "elif [ -f Makefile ] && command -v make >/dev/null; then make check $makeFlags",
      "elif [ -f ./check.sh ]; then sh ./check.sh",
      "fi",
    ].join("\n"),
  },
  {
    name: "install",
    body: [
      'if [ -f Makefile ] && command -v make >/dev/null; then make install prefix="$out" $makeFlags',
      "elif [ -f ./install.sh ]; then sh ./install.sh",
      "fi",
    ].join("\n"),
  },
  {
    // `#!/bin/sh` does not exist in the sandbox or on a Guix system: point at the seed's sh.
    name: "patch-shebangs",
    body: [
      "for o in $outputs; do",
      '  eval "d=\\$$o"',
      '  for f in "$d"/bin/* "$d"/libexec/*; do',
      '    if [ -f "$f" ] && [ "$(head -c 2 "$f")" = "#!" ]; then',
      '      sed -i "1s|^#! */bin/sh|#!$builder sh|" "$f"',
      "    fi",
      "  done",
      "done",
    ].join("\n"),
  },
];

/**
 * The body of the builder script after the common prologue: one shell function per phase,
 * then calls in order.
 * @example gnuBuilderScript({ phases: [{ remove: "check" }] })
 */
export function gnuBuilderScript(args: BuildArguments): string {
  const phases = modifyPhases(standardPhases, args.phases ?? []);
  const lines: string[] = [];
  phases.forEach((phase, index) => {
    lines.push(`phase_${index} () {`, phase.body, "}");
  });
  phases.forEach((phase, index) => {
    lines.push(`echo "starting phase \\\`${phase.name}'"`, `phase_${index}`);
  });
  lines.push('echo "build succeeded"');
  return `${lines.join("\n")}\n`;
}
