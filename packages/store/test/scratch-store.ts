/** A Kiln store in a scratch directory, with a chosen logical store directory. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalStore } from "../src/local-store.ts";

export interface ScratchStore {
  readonly store: LocalStore;
  readonly root: string;
  /** Makes a small tree to add. */
  tree(name: string, files: Record<string, string>): string;
}

export function scratchStore(storeDir = "/gnu/store"): ScratchStore {
  const root = mkdtempSync(join(tmpdir(), "kiln-store-"));
  const store = LocalStore.open({
    storeDir,
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  return {
    store,
    root,
    tree(name, files) {
      const dir = join(root, "src", name);
      for (const [relative, contents] of Object.entries(files)) {
        const path = join(dir, relative);
        mkdirSync(join(path, ".."), { recursive: true });
        writeFileSync(path, contents, { mode: relative.endsWith(".sh") ? 0o755 : 0o644 });
      }
      return dir;
    },
  };
}
