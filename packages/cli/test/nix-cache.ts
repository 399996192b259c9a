/** Test support: a binary cache made by real Nix, holding a derivation's output. */
import { join } from "node:path";
import type { PrivateNixStore } from "@kiln/testkit";

/** The host paths both Nix's sandbox and Kiln's see, for builders that are /bin/sh. */
export const HOST_SANDBOX_PATHS = ["/bin/sh", "/lib", "/lib64", "/usr"];

/**
 * Builds `drv` with Nix (sandbox on), then `nix copy`s its output into `file://cacheDir`
 * signed with a fresh key `keyName`; returns the output path and the public key file.
 */
export function realiseIntoNixCache(
  nix: PrivateNixStore,
  drv: string,
  options: { cacheDir: string; keysDir: string; keyName: string; compression: string },
): { out: string; publicKeyFile: string } {
  const sandboxPaths = HOST_SANDBOX_PATHS.map((path) => `${path}=${path}`).join(" ");
  const out = nix
    .run("nix-store", [
      "--realise",
      drv,
      "--option",
      "sandbox",
      "true",
      "--option",
      "sandbox-paths",
      sandboxPaths,
    ])
    .toString()
    .trim();
  const secretKeyFile = join(options.keysDir, `${options.keyName}.sk`);
  const publicKeyFile = join(options.keysDir, `${options.keyName}.pk`);
  nix.run("nix-store", [
    "--generate-binary-cache-key",
    options.keyName,
    secretKeyFile,
    publicKeyFile,
  ]);
  const url = `file://${options.cacheDir}?compression=${options.compression}&secret-key=${secretKeyFile}`;
  nix.run("nix", ["copy", "--to", url, out]);
  return { out, publicKeyFile };
}

/** A `nix-store --export` archive of the closure of `drv` (the .drv and its sources). */
export function exportClosure(nix: PrivateNixStore, drv: string): Buffer {
  return nix.run("nix-store", [
    "--export",
    ...nix.run("nix-store", ["-qR", drv]).toString().trim().split("\n"),
  ]);
}
