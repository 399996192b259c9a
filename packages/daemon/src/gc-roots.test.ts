/**
 * findRoots on a scratch store (collection itself is @kiln/gc's, tested there): direct and indirect roots, temporary
 * roots, keep-derivations, deletion order and refusals.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { findRoots, gcRootsDir } from "./find-roots.ts";

let root: string;
let store: LocalStore;
let a: string;
let b: string;
let c: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "kiln-gc-roots-"));
  store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  a = await store.addTextToStore("a", "a\n");
  b = await store.addTextToStore("b", `b refers to ${a}\n`, [a]);
  c = await store.addTextToStore("c", "c\n");
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

test("direct, indirect and temporary roots are found; a stale indirect link is removed", () => {
  const gcroots = gcRootsDir(store.config);
  mkdirSync(join(gcroots, "auto"), { recursive: true });
  symlinkSync(b, join(gcroots, "b-root"));
  const result = join(root, "result");
  symlinkSync(`${c}/sub/file`, result);
  symlinkSync(result, join(gcroots, "auto", "indirect"));
  symlinkSync(join(root, "gone"), join(gcroots, "auto", "stale"));
  const roots = findRoots(store.config, { tempRoots: [a] });
  assert.deepEqual([...(roots.get(b) ?? [])], [join(gcroots, "b-root")]);
  assert.deepEqual([...(roots.get(c) ?? [])], [result]);
  assert.deepEqual([...(roots.get(a) ?? [])], [`{temp:${process.pid}}`]);
  assert.equal(existsSync(join(gcroots, "auto", "stale")), false);
  const censored = findRoots(store.config, { censor: true });
  assert.deepEqual([...censored.get(b)!], ["{censored}"]);
  rmSync(join(gcroots, "auto", "indirect"));
});
