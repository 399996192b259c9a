/**
 * Test support: a scratch "real store" holding a copy of the statically linked busybox
 * as a store path, so sandboxed builds can run `busybox sh -c …` with nothing from the
 * host. Everything lives under one world-searchable directory, so build users reach it.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNix32 } from "@kiln/formats/nix32";
import { removeTree } from "../src/remove-tree.ts";
import type { SandboxInput } from "../src/sandbox-spec.ts";

export const STORE_DIR = "/gnu/store";

export interface BusyboxStore {
  /** The busybox input. */
  busybox: SandboxInput;
  /** `<STORE_DIR>/<hash>-busybox/bin/busybox`. */
  builder: string;
  /** A new logical store path name `<STORE_DIR>/<hash>-name`. */
  storePath(name: string): string;
  /** Adds a regular file (or, with `symlinkTo`, a symlink) input to the real store. */
  addInput(name: string, contents: string | { symlinkTo: string }): SandboxInput;
  /** A fresh scratch directory for one build. */
  scratchDir(): string;
  dispose(): void;
}

export function createBusyboxStore(): BusyboxStore {
  const root = mkdtempSync(join(tmpdir(), "kiln-sandbox-test-"));
  chmodSync(root, 0o755);
  const realStore = join(root, "store");
  mkdirSync(realStore);
  const storePath = (name: string) => `${STORE_DIR}/${encodeNix32(randomBytes(20))}-${name}`;
  const realPath = (path: string) => join(realStore, path.slice(STORE_DIR.length + 1));
  const busyboxPath = storePath("busybox");
  mkdirSync(join(realPath(busyboxPath), "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(realPath(busyboxPath), "bin", "busybox"));
  chmodSync(join(realPath(busyboxPath), "bin", "busybox"), 0o555);
  let builds = 0;
  return {
    busybox: { path: busyboxPath, realPath: realPath(busyboxPath) },
    builder: `${busyboxPath}/bin/busybox`,
    storePath,
    addInput(name, contents) {
      const path = storePath(name);
      if (typeof contents === "string") writeFileSync(realPath(path), contents);
      else symlinkSync(contents.symlinkTo, realPath(path));
      return { path, realPath: realPath(path) };
    },
    scratchDir() {
      const dir = join(root, `build-${builds++}`);
      mkdirSync(dir, { mode: 0o755 });
      return dir;
    },
    dispose() {
      removeTree(root); // also what a build made read-only (not root: no override)
    },
  };
}
