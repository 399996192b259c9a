/**
 * findRoots and collectGarbage on a scratch store: direct and indirect roots, temporary
 * roots, keep-derivations, deletion order and refusals.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { collectGarbage } from "./collect-garbage.ts";
import { findRoots, gcRootsDir } from "./find-roots.ts";
import { GcAction } from "./worker-protocol.ts";

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

test("live is the closure of the roots; dead paths go referrers first; live ones are refused", () => {
  const roots = findRoots(store.config);
  assert.deepEqual(
    collectGarbage(store, roots, { action: GcAction.ReturnLive }).paths,
    [a, b].sort(),
  );
  assert.deepEqual(collectGarbage(store, roots, { action: GcAction.ReturnDead }).paths, [c]);
  assert.throws(
    () => collectGarbage(store, roots, { action: GcAction.DeleteSpecific, pathsToDelete: [a] }),
    /still alive/,
  );
  const deleted = collectGarbage(store, roots, { action: GcAction.DeleteDead });
  assert.deepEqual(deleted.paths, [c]);
  assert.ok(deleted.bytesFreed > 0);
  assert.equal(store.isValidPath(c), false);
  assert.equal(existsSync(store.realPath(c)), false);
  rmSync(join(gcRootsDir(store.config), "b-root"));
  const all = collectGarbage(store, findRoots(store.config), { action: GcAction.DeleteDead });
  assert.deepEqual(all.paths, [b, a], "the referrer goes before what it refers to");
  assert.deepEqual(store.db.allValidPaths(), []);
});
