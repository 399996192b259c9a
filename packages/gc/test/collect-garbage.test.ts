import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import { acquirePathLock } from "@kiln/store/path-lock";
import { verifyStore } from "@kiln/store/verify-store";
import { addIndirectRoot, addPermRoot } from "../src/add-indirect-root.ts";
import { collectGarbage } from "../src/collect-garbage.ts";
import { deletionOrder } from "../src/deletion-order.ts";
import { findRoots } from "../src/find-roots.ts";
import { gcLayout } from "../src/gc-layout.ts";
import { listBusyPaths } from "../src/list-busy-paths.ts";
import { optimiseStore } from "../src/optimise-store.ts";
import { TempRoots } from "../src/temp-roots.ts";
import { gcTestStore } from "./gc-test-store.ts";

test("a collection keeps every rooted path and its closure and deletes everything unreachable", async () => {
  const { store, root, add, rootLink, pathOf } = gcTestStore();
  const libc = await add("libc");
  const lib = await add("lib", { references: [libc] });
  const app = await add("app", { references: [lib] });
  const direct = await add("direct");
  const viaResult = await add("via-result", { references: [libc] });
  const inProfile = await add("in-profile");
  const fileRoot = await add("file-root");
  const dead1 = await add("dead1", { references: [lib] });
  const dead2 = await add("dead2", { references: [dead1] });
  // A path that refers to itself (as build outputs may) is unregistered the long way.
  const selfRef = await add("self-ref", { references: [pathOf("self-ref"), dead2] });
  const { profilesDir, rootsDir, autoRootsDir } = gcLayout(store.config);

  rootLink("app", app);
  rootLink("direct", `${direct}/share/doc`); // a link inside a store path roots the path
  // An indirect root: ./result outside the state directory, registered under auto/.
  const result = join(root, "work", "result");
  mkdirSync(join(root, "work"));
  const auto = addPermRoot(store.config, viaResult, result);
  assert.equal(readlinkSync(auto), result);
  // A dangling indirect root is removed by the collection.
  const stale = addIndirectRoot(store.config, join(root, "work", "gone"));
  // Profiles: every generation link under the profiles directory is a root.
  mkdirSync(join(profilesDir, "per-user", "ada"), { recursive: true });
  symlinkSync(inProfile, join(profilesDir, "per-user", "ada", "kiln-profile-1-link"));
  // A regular file named like a store path roots it (Nix's convention).
  writeFileSync(join(rootsDir, fileRoot.slice("/gnu/store/".length)), "");

  const roots = findRoots(store.config);
  assert.deepEqual(
    roots.map((r) => r.target).sort(),
    [app, direct, fileRoot, inProfile, viaResult].sort(),
  );
  assert.ok(roots.some((r) => r.link === result && r.target === viaResult));

  const dead = await collectGarbage(store, { action: "return-dead" });
  assert.deepEqual(dead.paths, [dead1, dead2, selfRef].sort());
  const live = await collectGarbage(store, { action: "return-live" });
  assert.deepEqual(live.paths, [app, lib, libc, direct, viaResult, inProfile, fileRoot].sort());

  const deletedOrder: string[] = [];
  const { paths, bytesFreed } = await collectGarbage(store, {
    onDeleted: (path) => deletedOrder.push(path),
  });
  assert.deepEqual(paths, [selfRef, dead2, dead1]); // referrers first
  assert.deepEqual(deletedOrder, paths);
  assert.ok(bytesFreed > 0);
  for (const path of [dead1, dead2, selfRef]) {
    assert.equal(store.isValidPath(path), false);
    assert.equal(existsSync(store.realPath(path)), false);
  }
  for (const path of live.paths) assert.ok(existsSync(store.realPath(path)), path);
  assert.equal(existsSync(stale), false, "the dangling auto link is gone");
  assert.ok(lstatSync(auto).isSymbolicLink() && auto.startsWith(autoRootsDir));
  assert.deepEqual(readdirSync(gcLayout(store.config).trashDir), []);
  const report = await verifyStore(store, { checkContents: true });
  assert.ok(report.clean);
  assert.deepEqual(report.removed, []);
});

test("keep-derivations (default on) and keep-outputs (default off) decide what derivations keep", async () => {
  const { store, add, rootLink } = gcTestStore();
  const src = await add("src");
  const out = await add("hello");
  const drv = await add("hello.drv", { references: [src], outputs: { out } });
  // Re-register the output with its deriver now that the drv is valid.
  const info = store.requirePathInfo(out);
  store.db.registerValidPaths([{ info: { ...info, deriver: drv } }]);
  const other = await add("other");
  const otherDrv = await add("other.drv", { outputs: { out: other } });
  store.db.registerValidPaths([{ info: { ...store.requirePathInfo(other), deriver: otherDrv } }]);
  rootLink("hello", out);
  rootLink("other-drv", otherDrv);

  const dead = async (options: { keepOutputs?: boolean; keepDerivations?: boolean }) =>
    (await collectGarbage(store, { action: "return-dead", ...options })).paths;
  // Default: out keeps its drv (and the drv's sources); otherDrv does not keep other.
  assert.deepEqual(await dead({}), [other]);
  assert.deepEqual(await dead({ keepDerivations: false }), [drv, other, src].sort());
  assert.deepEqual(await dead({ keepOutputs: true }), []);
  await collectGarbage(store, { keepDerivations: false });
  assert.equal(store.isValidPath(drv), false);
  assert.equal(store.isValidPath(out), true);
});

test("temporary roots of live clients are honoured, those of dead clients dropped", async () => {
  const { store, add } = gcTestStore();
  const kept = await add("kept");
  const closure = await add("closure");
  const top = await add("top", { references: [closure] });
  const orphan = await add("orphan");
  const roots = TempRoots.open(store.config, { tag: "test" });
  await roots.add([kept, top]);
  // A roots file left by a process that is gone.
  const { tempRootsDir } = gcLayout(store.config);
  const stale = join(tempRootsDir, "4194303");
  writeFileSync(stale, `${orphan}\n`);
  assert.deepEqual(listBusyPaths(store.config), [kept, top].sort());
  const { paths } = await collectGarbage(store);
  assert.deepEqual(paths, [orphan]);
  assert.equal(existsSync(stale), false);
  for (const path of [kept, top, closure]) assert.ok(store.isValidPath(path));
  roots.close();
  assert.deepEqual((await collectGarbage(store)).paths.sort(), [closure, kept, top].sort());
});

test("a root added by a client while the collection deletes is honoured, with its closure", async () => {
  const { store, add } = gcTestStore();
  // 600 dead paths (three batches) and ten dead pairs top → bottom.
  for (let i = 0; i < 600; i++) await add(`p${i}`);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < 10; i++) {
    const bottom = await add(`bottom${i}`);
    pairs.push([await add(`top${i}`, { references: [bottom] }), bottom]);
  }
  // Pick a pair that the collection reaches after its first batch.
  const dead = (await collectGarbage(store, { action: "return-dead" })).paths;
  const order = deletionOrder(dead, (path) => store.db.references(path));
  const pair = pairs.find(([top]) => order.indexOf(top) >= 300);
  assert.ok(pair, "some pair is deleted late");
  const [top, bottom] = pair;
  const roots = TempRoots.open(store.config, { tag: "late" });
  let added: Promise<void> | undefined;
  const { paths: deleted } = await collectGarbage(store, {
    onDeleted: () => {
      // The collection is running: add() waits for the batch in progress, and every
      // later batch re-reads the roots, so top and its closure must survive.
      added ??= roots.add(top);
    },
  });
  await added;
  assert.ok(store.isValidPath(top) && store.isValidPath(bottom));
  assert.equal(deleted.length, dead.length - 2);
  roots.close();
});

test("locked paths are busy: skipped, and what the derivation producing them needs is kept", async () => {
  const { store, add } = gcTestStore();
  const input = await add("input");
  const inputDrv = await add("input.drv", { outputs: { out: input } });
  const buildingPath = gcTestStore().pathOf("building");
  const drv = await add("building.drv", { references: [inputDrv], outputs: { out: buildingPath } });
  const lockedValid = await add("locked-valid");
  const orphan = await add("orphan");
  const unlockBuild = await store.lockPaths([buildingPath, lockedValid]);
  try {
    assert.deepEqual(listBusyPaths(store.config), [buildingPath, lockedValid].sort());
    const { paths } = await collectGarbage(store);
    assert.deepEqual(paths, [orphan]);
    for (const path of [input, inputDrv, drv, lockedValid]) assert.ok(store.isValidPath(path));
  } finally {
    unlockBuild();
  }
  // A path locked after the roots were read is skipped by the deletion itself.
  const late = await add("late");
  const lock = await acquirePathLock(`${store.realPath(late)}.lock`);
  let locked = false;
  const result = await collectGarbage(store, {
    action: "delete-specific",
    paths: [late],
    ignoreLiveness: true,
  }).catch((error: KilnError) => {
    locked = error.code === "ERR_GC_PATH_IN_USE";
    return undefined;
  });
  lock?.release();
  assert.equal(result, undefined);
  assert.ok(locked && store.isValidPath(late));
});

test("-C MIN stops once MIN bytes are freed; -D refuses live paths", async () => {
  const { store, add, rootLink } = gcTestStore();
  const dead: string[] = [];
  for (let i = 0; i < 20; i++) dead.push(await add(`big${i}`, { size: 10_000 }));
  const { paths, bytesFreed } = await collectGarbage(store, { minFreed: 25_000 });
  assert.ok(bytesFreed >= 25_000, `${bytesFreed}`);
  assert.ok(paths.length >= 3 && paths.length < 20, `${paths.length} deleted`);
  assert.ok(bytesFreed >= paths.length * 10_000);

  const live = await add("live");
  const referrer = await add("referrer", { references: [dead[19]] });
  rootLink("live", live);
  await assert.rejects(
    collectGarbage(store, { action: "delete-specific", paths: [live] }),
    (error: KilnError) =>
      error.code === "ERR_GC_PATH_ALIVE" &&
      error.message.includes(`${live} since it is still alive`),
  );
  // A dead path that another (dead, unnamed) path refers to cannot go on its own.
  await assert.rejects(
    collectGarbage(store, { action: "delete-specific", paths: [dead[19]] }),
    (error: KilnError) => error.code === "ERR_GC_PATH_IN_USE",
  );
  const specific = await collectGarbage(store, {
    action: "delete-specific",
    paths: [dead[19], referrer],
  });
  assert.deepEqual(specific.paths, [referrer, dead[19]]);
  assert.ok(store.isValidPath(live));
});

test("crash leftovers go: the trash, unregistered entries and dead temporary copies", async () => {
  const { store, add } = gcTestStore();
  const kept = await add("kept");
  await TempRoots.open(store.config).add(kept);
  const { trashDir } = gcLayout(store.config);
  mkdirSync(join(trashDir, "x-half-deleted", "sub"), { recursive: true, mode: 0o555 });
  writeFileSync(
    join(store.config.realStoreDir, `${gcTestStore().pathOf("unregistered").slice(11)}`),
    "x",
  );
  writeFileSync(join(store.config.realStoreDir, `${kept.slice(11)}.kiln-new-00aa11`), "partial");
  writeFileSync(join(store.config.realStoreDir, "import.kiln-new-00bb22"), "an import in progress");
  const { bytesFreed } = await collectGarbage(store);
  assert.ok(bytesFreed > 0);
  assert.deepEqual(readdirSync(trashDir), []);
  assert.deepEqual(
    readdirSync(store.config.realStoreDir).sort(),
    [".kiln-trash", kept.slice(11), "import.kiln-new-00bb22"].sort(),
  );
});

test("--optimize links identical files to one inode; the collection frees them through .links", async () => {
  const { store, add } = gcTestStore();
  const a = await add("a", { contents: "same contents, long enough to matter\n".repeat(100) });
  const b = await add("b", { contents: "same contents, long enough to matter\n".repeat(100) });
  const c = await add("c", { contents: "different\n" });
  const first = await optimiseStore(store);
  assert.deepEqual(first, { filesScanned: 3, filesLinked: 1, bytesSaved: 3700 });
  assert.equal(lstatSync(store.realPath(a)).ino, lstatSync(store.realPath(b)).ino);
  assert.equal(lstatSync(store.realPath(a)).nlink, 3);
  assert.equal(lstatSync(store.realPath(a)).mtimeMs, 1000);
  assert.equal(lstatSync(store.realPath(c)).nlink, 2);
  assert.deepEqual(await optimiseStore(store), { filesScanned: 3, filesLinked: 0, bytesSaved: 0 });
  assert.ok((await verifyStore(store, { checkContents: true })).clean);
  const { bytesFreed } = await collectGarbage(store);
  // a and b share 3700 bytes (freed once, with their .links entry), c has 10.
  assert.equal(bytesFreed, 3700 + 10);
  assert.deepEqual(readdirSync(gcLayout(store.config).linksDir), []);
});
