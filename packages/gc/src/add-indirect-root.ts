/**
 * Registering roots that live outside the state directory, as `nix-store --add-root
 * --indirect` and `guix build --root` do: the symlink (`./result`, a custom profile's
 * generation link) is named by a link in `gcroots/auto/`, which findRoots follows.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { encodeNix32 } from "@kiln/formats/nix32";
import { parseStorePath } from "@kiln/formats/store-path";
import type { StoreConfig } from "@kiln/store/store-config";
import { gcLayout } from "./gc-layout.ts";
import { switchSymlink } from "./switch-symlink.ts";

/**
 * Makes `link` (an absolute or relative file name) an indirect root; returns the link
 * created in `gcroots/auto/`. Links inside the roots directory need no registration.
 */
export function addIndirectRoot(
  config: Pick<StoreConfig, "stateDir" | "realStoreDir">,
  link: string,
): string {
  const { autoRootsDir, rootsDir, profilesDir } = gcLayout(config);
  const absolute = resolve(link);
  if (absolute.startsWith(rootsDir + sep) || absolute.startsWith(profilesDir + sep)) {
    return absolute;
  }
  mkdirSync(autoRootsDir, { recursive: true });
  const name = encodeNix32(createHash("sha1").update(absolute).digest());
  const auto = join(autoRootsDir, name);
  switchSymlink(auto, absolute);
  return auto;
}

/**
 * Points `link` at `storePath` (atomically) and registers it as an indirect root: a
 * permanent root until the link is removed (`kiln build -r`).
 * @example addPermRoot(store.config, "/gnu/store/…-hello-2.12", "./result")
 */
export function addPermRoot(config: StoreConfig, storePath: string, link: string): string {
  parseStorePath(storePath, config.storeDir);
  mkdirSync(dirname(resolve(link)), { recursive: true });
  switchSymlink(resolve(link), storePath);
  return addIndirectRoot(config, link);
}
