/** The machine's platform in Nix's spelling, for a derivation's `system` field. */

const ARCHITECTURES: Readonly<Record<string, string>> = {
  x64: "x86_64",
  arm64: "aarch64",
  ia32: "i686",
  arm: "armv7l",
  riscv64: "riscv64",
  ppc64: "powerpc64le",
  s390x: "s390x",
  loong64: "loongarch64",
  mips64el: "mips64el",
};

/**
 * The `system` of derivations this machine builds natively.
 *
 * @example
 * hostSystem() // "x86_64-linux"
 * hostSystem({ arch: "arm64", platform: "linux" }) // "aarch64-linux"
 */
export function hostSystem(
  host: { arch: string; platform: string } = { arch: process.arch, platform: process.platform },
): string {
  return `${ARCHITECTURES[host.arch] ?? host.arch}-${host.platform}`;
}
