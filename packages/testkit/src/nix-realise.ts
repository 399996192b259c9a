import type { PrivateNixStore } from "./nix-store.ts";

/**
 * Builds `drvs` with `nix-store --realise` in `nix`'s private store, sandbox on, with
 * `hostPaths` bound into the sandbox at the same places; returns the output paths.
 * @example realiseWithNix(nix, ["/nix/store/…-x.drv"], ["/bin/sh"]) // ["/nix/store/…-x"]
 */
export function realiseWithNix(
  nix: PrivateNixStore,
  drvs: readonly string[],
  hostPaths: readonly string[],
): string[] {
  return nix
    .run("nix-store", [
      "--realise",
      ...drvs,
      "--option",
      "sandbox",
      "true",
      "--option",
      "sandbox-paths",
      hostPaths.map((path) => `${path}=${path}`).join(" "),
    ])
    .toString()
    .trim()
    .split("\n");
}
