/**
 * The arguments of `nix copy --from FROM --to TO PATHS…` trusting exactly `trustedKey`
 * and no other substituter, as the interop tests run it (spawned sync or async).
 * @example spawnSync("nix", nixCopyArgs({ from, to: store.uri, trustedKey, paths }))
 */
export function nixCopyArgs(copy: {
  readonly from: string;
  readonly to: string;
  readonly trustedKey: string;
  readonly paths: readonly string[];
}): string[] {
  return [
    "copy",
    "--extra-experimental-features",
    "nix-command",
    "--option",
    "trusted-public-keys",
    copy.trustedKey,
    "--option",
    "substituters",
    "",
    "--from",
    copy.from,
    "--to",
    copy.to,
    ...copy.paths,
  ];
}
