/**
 * Test support: a Kiln store in a scratch directory, and quick ways to put paths in it
 * with chosen references, derivers and derivation outputs, and to root them.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { encodeNix32 } from "@kiln/formats/nix32";
import { LocalStore } from "@kiln/store/local-store";
import { gcLayout } from "../src/gc-layout.ts";

export interface GcTestStore {
  readonly store: LocalStore;
  readonly root: string;
  /** A store path name → full path (not registered). */
  pathOf(name: string): string;
  /** Writes a file of `size` bytes as store path `name` and registers it. */
  add(
    name: string,
    options?: {
      references?: string[];
      deriver?: string;
      outputs?: Record<string, string>;
      size?: number;
      contents?: string;
    },
  ): Promise<string>;
  /** A direct GC root `gcroots/<name>` → path. */
  rootLink(name: string, path: string): string;
}

export function gcTestStore(storeDir = "/gnu/store"): GcTestStore {
  const root = mkdtempSync(join(tmpdir(), "kiln-gc-"));
  const store = LocalStore.open({
    storeDir,
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  const pathOf = (name: string) =>
    `${storeDir}/${encodeNix32(createHash("sha1").update(name).digest())}-${name}`;
  return {
    store,
    root,
    pathOf,
    async add(name, options = {}) {
      const path = pathOf(name);
      const real = store.realPath(path);
      const contents =
        options.contents ??
        `${name}\n${(options.references ?? []).join("\n")}\n`.padEnd(options.size ?? 0, ".");
      writeFileSync(real, contents, { mode: 0o444 });
      utimesSync(real, 1, 1);
      const { hash, narSize } = await hashPath(real);
      store.db.registerValidPaths([
        {
          info: {
            path,
            narHash: formatHashNix32(hash),
            narSize,
            references: options.references ?? [],
            deriver: options.deriver,
          },
          derivationOutputs: options.outputs,
        },
      ]);
      return path;
    },
    rootLink(name, path) {
      const { rootsDir } = gcLayout(store.config);
      mkdirSync(rootsDir, { recursive: true });
      const link = join(rootsDir, name);
      symlinkSync(path, link);
      return link;
    },
  };
}
