import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import { collectGarbage } from "@kiln/gc/collect-garbage";
import { findRoots } from "@kiln/gc/find-roots";
import { TempRoots } from "@kiln/gc/temp-roots";
import { LocalStore } from "@kiln/store/local-store";
import { verifyStore } from "@kiln/store/verify-store";
import { buildGeneration } from "../src/build-generation.ts";
import { deleteGenerations } from "../src/delete-generations.ts";
import { listGenerations } from "../src/list-generations.ts";
import { applyPackageTransaction, parseRemovalPattern } from "../src/package-transaction.ts";
import {
  currentGeneration,
  generationFile,
  generationNumbers,
} from "../src/profile-generations.ts";
import { profileLocations } from "../src/profile-locations.ts";
import { formatProfileManifest, type ProfileManifest } from "../src/profile-manifest.ts";
import { readProfileManifest } from "../src/read-profile-manifest.ts";
import { realiseBuildenv } from "../src/realise-buildenv.ts";
import { resolveInStore } from "../src/resolve-in-store.ts";
import { resolvePackageSpecs } from "../src/resolve-package-specs.ts";
import { rollBack, switchGeneration } from "../src/roll-back.ts";
import { evaluateSearchPaths } from "../src/search-paths.ts";

/** A store whose logical directory (/gnu/store) is not where its files are. */
function scratch() {
  const root = mkdtempSync(join(tmpdir(), "kiln-profiles-"));
  const store = LocalStore.open({
    storeDir: "/gnu/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  const tempRoots = TempRoots.open(store.config, {
    tag: `t${Math.random().toString(36).slice(2)}`,
  });
  const locations = profileLocations(store.config, { user: "ada", home: join(root, "home") });
  mkdirSync(locations.userProfilesDir, { recursive: true });
  const item = async (name: string, files: Record<string, string>) => {
    const dir = join(root, "src", name);
    for (const [relative, contents] of Object.entries(files)) {
      mkdirSync(join(dir, relative, ".."), { recursive: true });
      writeFileSync(join(dir, relative), contents, {
        mode: relative.startsWith("bin/") ? 0o755 : 0o644,
      });
    }
    return store.addToStore(dir);
  };
  const manifestOf = async (...items: string[]): Promise<ProfileManifest> => ({
    entries: await resolvePackageSpecs(store, items, { tempRoots }),
  });
  return { root, store, tempRoots, profile: locations.defaultProfile, item, manifestOf };
}

test("a generation is the union of its items, built by a builtin:buildenv derivation", async () => {
  const { store, tempRoots, profile, item, manifestOf } = scratch();
  const hello = await item("hello-2.12", { "bin/hello": "hello", "share/man/man1/hello.1": "man" });
  const libx = await item("libx-1.0", {
    "lib/libx.so": "elf",
    "lib/pkgconfig/x.pc": "pc",
    "share/man/man3/x.3": "man",
  });
  const tool = await item("tool-3", { "bin/tool": "tool" });
  const manifest = await manifestOf(hello, libx, tool);
  assert.deepEqual(
    manifest.entries.map((e) => [
      e.name,
      e.version,
      e.output,
      e.searchPaths.map((s) => s.variable),
    ]),
    [
      ["hello", "2.12", "out", ["PATH", "MANPATH"]],
      ["libx", "1.0", "out", ["PKG_CONFIG_PATH", "MANPATH"]],
      ["tool", "3", "out", ["PATH"]],
    ],
  );
  const result = await buildGeneration(store, profile, manifest, { tempRoots });
  assert.deepEqual(
    { previous: result.previous, generation: result.generation, unchanged: result.unchanged },
    { previous: 0, generation: 1, unchanged: false },
  );
  assert.equal(readlinkSync(profile), "kiln-profile-1-link");
  assert.equal(readlinkSync(generationFile(profile, 1)), result.storePath);
  assert.match(result.storePath, /^\/gnu\/store\/[0-9a-z]{32}-profile$/);

  const real = store.realPath(result.storePath);
  // bin is shared: a real directory of links; lib has one owner: one link.
  assert.ok(lstatSync(join(real, "bin")).isDirectory());
  assert.equal(readlinkSync(join(real, "bin/hello")), `${hello}/bin/hello`);
  assert.equal(readlinkSync(join(real, "bin/tool")), `${tool}/bin/tool`);
  assert.equal(readlinkSync(join(real, "lib")), `${libx}/lib`);
  assert.equal(readlinkSync(join(real, "share/man/man1")), `${hello}/share/man/man1`);
  assert.equal(readlinkSync(join(real, "share/man/man3")), `${libx}/share/man/man3`);
  assert.equal(readFileSync(join(real, "manifest"), "utf8"), formatProfileManifest(manifest));
  assert.deepEqual(readProfileManifest(store, profile), JSON.parse(JSON.stringify(manifest)));

  const info = store.requirePathInfo(result.storePath);
  assert.deepEqual(info.references, [hello, libx, tool].sort());
  assert.ok(info.deriver?.endsWith("-profile.drv"));
  const drv = store.readDerivation(info.deriver!);
  assert.equal(drv.builder, "builtin:buildenv");
  assert.equal(drv.system, "builtin");
  assert.equal(drv.env.get("packages"), [hello, libx, tool].join(" "));
  assert.ok(drv.inputSrcs.includes(drv.env.get("manifest")!));
  assert.equal(await realiseBuildenv(store, info.deriver!), result.storePath);
  assert.ok((await verifyStore(store, { checkContents: true })).clean);

  // Search paths, evaluated through the profile's links into the (elsewhere) store.
  const exists = (relative: string) =>
    resolveInStore(store.config, `${profile}/${relative}`)?.stat.isDirectory() ?? false;
  assert.deepEqual(evaluateSearchPaths(manifest, profile, exists), [
    { variable: "PATH", value: `${profile}/bin`, separator: ":" },
    { variable: "MANPATH", value: `${profile}/share/man`, separator: ":" },
    { variable: "PKG_CONFIG_PATH", value: `${profile}/lib/pkgconfig`, separator: ":" },
  ]);

  // The same manifest again: nothing to do.
  const again = await buildGeneration(store, profile, manifest, { tempRoots });
  assert.deepEqual([again.unchanged, again.generation], [true, 1]);
});

test("two items providing the same file collide, and nothing is left behind", async () => {
  const { store, tempRoots, profile, item, manifestOf } = scratch();
  const a = await item("a-1", { "bin/same": "a", "bin/a": "a" });
  const b = await item("b-1", { "bin/same": "b" });
  await assert.rejects(
    buildGeneration(store, profile, await manifestOf(a, b), { tempRoots }),
    (error: KilnError) =>
      error.code === "ERR_PROFILE_COLLISION" &&
      error.message === `collision between ${a}/bin/same and ${b}/bin/same`,
  );
  assert.equal(existsSync(profile), false);
  assert.deepEqual(
    readdirSync(store.config.realStoreDir).filter((n) => n.includes(".kiln-new-")),
    [],
  );
  // A single file is not a package.
  const file = await store.addTextToStore("just-a-file", "x");
  await assert.rejects(
    buildGeneration(store, profile, await manifestOf(file), { tempRoots }),
    (error: KilnError) => error.code === "ERR_PROFILE_NOT_DIRECTORY",
  );
});

test("roll-back, switch-generation and delete-generations behave as in Guix", async () => {
  const { store, tempRoots, profile, item, manifestOf } = scratch();
  const [a, b, c] = [
    await item("a-1", { "bin/a": "a" }),
    await item("b-1", { "bin/b": "b" }),
    await item("c-1", { "bin/c": "c" }),
  ];
  const install = async (...items: string[]) => {
    const current = readProfileManifest(store, profile);
    const next = applyPackageTransaction(current, {
      install: (await manifestOf(...items)).entries,
    });
    return buildGeneration(store, profile, next, { tempRoots });
  };
  await assert.rejects(
    rollBack(store, profile, { tempRoots }),
    (e: KilnError) => e.code === "ERR_PROFILE_NOT_FOUND",
  );
  await install(a); // 1: a
  await install(b); // 2: a b
  const gen2 = readlinkSync(generationFile(profile, 2));
  assert.deepEqual(await rollBack(store, profile, { tempRoots }), { from: 2, to: 1 });
  // A new generation after a roll-back is current + 1: it replaces the "future" 2.
  const replaced = await install(c); // 2: a c
  assert.equal(replaced.generation, 2);
  assert.notEqual(readlinkSync(generationFile(profile, 2)), gen2);
  await install(b); // 3: a c b
  assert.deepEqual(generationNumbers(profile), [1, 2, 3]);

  assert.deepEqual(switchGeneration(profile, "1"), { from: 3, to: 1 });
  assert.deepEqual(switchGeneration(profile, "+2"), { from: 1, to: 3 });
  assert.deepEqual(switchGeneration(profile, "-1"), { from: 3, to: 2 });
  assert.throws(
    () => switchGeneration(profile, "+5"),
    (e: KilnError) => e.message === "cannot switch to generation '+5'",
  );
  assert.throws(
    () => switchGeneration(profile, "latest"),
    (e: KilnError) => e.code === "ERR_PROFILE_CANNOT_SWITCH",
  );
  assert.throws(
    () => switchGeneration(profile, "7"),
    (e: KilnError) => e.message === `generation 7 of profile ${profile} does not exist`,
  );
  assert.equal(currentGeneration(profile), 2);

  // Deleting: the current generation is never deleted.
  const spared = deleteGenerations(profile, "2..3");
  assert.deepEqual(spared.deleted, [generationFile(profile, 3)]);
  assert.deepEqual(spared.warnings, ["not removing generation 2, which is current"]);
  assert.throws(
    () => deleteGenerations(profile, "2"),
    (e: KilnError) => e.message === "no matching generation",
  );
  assert.throws(
    () => switchGeneration(profile, "3"),
    (e: KilnError) => e.code === "ERR_PROFILE_MISSING_GENERATION",
  );
  assert.deepEqual(deleteGenerations(profile, "0").deleted, []);

  // Roll back from 2 to 1, then from the first generation to the empty generation 0.
  assert.deepEqual(await rollBack(store, profile, { tempRoots }), { from: 2, to: 1 });
  assert.deepEqual(await rollBack(store, profile, { tempRoots }), { from: 1, to: 0 });
  assert.deepEqual(readProfileManifest(store, profile).entries, []);
  assert.deepEqual(await rollBack(store, profile, { tempRoots }), { from: 0, to: 0 });
  assert.deepEqual(
    listGenerations(store, profile).map((g) => [g.number, g.current, g.manifest.entries.length]),
    [
      [1, false, 1],
      [2, false, 2],
    ],
  );
  // Generation 0 is never deleted, not even by "delete all but the current one".
  switchGeneration(profile, "2");
  assert.deepEqual(deleteGenerations(profile, "").deleted, [generationFile(profile, 1)]);
  assert.deepEqual(generationNumbers(profile), [0, 2]);
});

test("durations select generations by the date of their link", async () => {
  const { store, tempRoots, profile, item, manifestOf } = scratch();
  const items = [];
  for (let i = 1; i <= 4; i++) items.push(await item(`p${i}-1`, { [`bin/p${i}`]: `${i}` }));
  for (let i = 1; i <= 4; i++)
    await buildGeneration(store, profile, await manifestOf(...items.slice(0, i)), { tempRoots });
  const day = 24 * 3600 * 1000;
  const age = (generation: number, days: number) => {
    const when = new Date(Date.now() - days * day);
    lutimesSync(generationFile(profile, generation), when, when);
  };
  age(1, 60);
  age(2, 20);
  age(3, 3);
  assert.deepEqual(
    listGenerations(store, profile, "1w").map((g) => g.number),
    [3, 4],
  );
  assert.deepEqual(
    listGenerations(store, profile, "2..").map((g) => g.time <= new Date()),
    [true, true, true],
  );
  switchGeneration(profile, "1");
  // 1m: generations older than a month, except the current one (1).
  assert.throws(
    () => deleteGenerations(profile, "1m"),
    (e: KilnError) => e.message === "no matching generation",
  );
  switchGeneration(profile, "4");
  assert.deepEqual(deleteGenerations(profile, "1m").deleted, [generationFile(profile, 1)]);
  assert.deepEqual(deleteGenerations(profile, "2w").deleted, [generationFile(profile, 2)]);
  assert.deepEqual(generationNumbers(profile), [3, 4]);
});

test("the collector keeps every generation's closure, and frees them once generations go", async () => {
  const { root, store, tempRoots, profile, item, manifestOf } = scratch();
  const old = await item("old-1", { "bin/old": "old" });
  const kept = await item("kept-1", { "bin/kept": "kept" });
  const first = await buildGeneration(store, profile, await manifestOf(old), { tempRoots });
  const second = await buildGeneration(store, profile, await manifestOf(kept), { tempRoots });
  // A profile elsewhere: its generation links are indirect roots.
  const custom = join(root, "home", "dev-profile");
  mkdirSync(join(root, "home"), { recursive: true });
  const elsewhere = await item("elsewhere-1", { "bin/e": "e" });
  const third = await buildGeneration(store, custom, await manifestOf(elsewhere), { tempRoots });
  const targets = findRoots(store.config).map((r) => r.target);
  for (const path of [first.storePath, second.storePath, third.storePath])
    assert.ok(targets.includes(path));

  tempRoots.close(); // this client is done: only the roots on disk count now
  await collectGarbage(store);
  for (const path of [old, kept, elsewhere, first.storePath, second.storePath, third.storePath]) {
    assert.ok(store.isValidPath(path), path);
  }
  deleteGenerations(profile, "1");
  deleteGenerations(custom, "");
  assert.throws(
    () => deleteGenerations(custom, "1"),
    (e: KilnError) => e.code === "ERR_PROFILE_NO_MATCH",
  );
  const { unlinkSync } = await import("node:fs");
  unlinkSync(generationFile(custom, 1));
  unlinkSync(custom);
  const { paths } = await collectGarbage(store);
  for (const path of [old, first.storePath, elsewhere, third.storePath]) {
    assert.ok(paths.includes(path), `${path} collected`);
  }
  assert.ok(store.isValidPath(kept) && store.isValidPath(second.storePath));
  assert.ok((await verifyStore(store, { checkContents: true })).clean);
});

test("installing a derivation's outputs builds it first through the function given", async () => {
  const { store, tempRoots, item } = scratch();
  const lib = await item("lib-1", { "lib/liblib.so": "so" });
  // Register a derivation whose `out` and `doc` outputs come from "building".
  const { computeDerivationOutputs, derivationPath } = await import(
    "@kiln/formats/derivation-outputs"
  );
  const { printDerivation } = await import("@kiln/formats/print-derivation");
  const bare = {
    outputs: new Map([
      ["out", { path: "", hashAlgo: "", hash: "" }],
      ["doc", { path: "", hashAlgo: "", hash: "" }],
    ]),
    inputDrvs: new Map(),
    inputSrcs: [lib],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: [],
    env: new Map([["name", "thing-2.0"]]),
  };
  const drv = computeDerivationOutputs(bare, { resolve: () => bare, storeDir: "/gnu/store" });
  const drvPath = await store.addTextToStore("thing-2.0.drv", printDerivation(drv), [lib]);
  assert.equal(drvPath, derivationPath(drv, { storeDir: "/gnu/store" }));
  const built: string[][] = [];
  const realise = async (drvPaths: readonly string[]) => {
    built.push([...drvPaths]);
    for (const [name, output] of drv.outputs) {
      const dir = join(store.config.realStoreDir, "..", `build-${name}`);
      mkdirSync(join(dir, name === "doc" ? "share/doc" : "bin"), { recursive: true });
      writeFileSync(join(dir, name === "doc" ? "share/doc/README" : "bin/thing"), name);
      const { hashPath } = await import("@kiln/formats/hash-path");
      const { formatHashNix32 } = await import("@kiln/formats/hash");
      const { cpSync } = await import("node:fs");
      cpSync(dir, store.realPath(output.path), { recursive: true });
      const { hash, narSize } = await hashPath(store.realPath(output.path));
      store.db.registerValidPaths([
        {
          info: {
            path: output.path,
            narHash: formatHashNix32(hash),
            narSize,
            references: [],
            deriver: drvPath,
          },
        },
      ]);
    }
  };
  const entries = await resolvePackageSpecs(store, [`${drvPath}:doc`, drvPath], {
    tempRoots,
    realise,
  });
  assert.deepEqual(built, [[drvPath]]);
  assert.deepEqual(
    entries.map((e) => [e.name, e.version, e.output, e.item]),
    [
      ["thing", "2.0", "doc", drv.outputs.get("doc")!.path],
      ["thing", "2.0", "doc", drv.outputs.get("doc")!.path],
      ["thing", "2.0", "out", drv.outputs.get("out")!.path],
    ],
  );
  await assert.rejects(
    resolvePackageSpecs(store, [`${drvPath}:lib`], { tempRoots }),
    (e: KilnError) => e.code === "ERR_PROFILE_BAD_SPEC" && /has no output "lib"/.test(e.message),
  );
  // The manifest is parsed back; removal by name still works on what a drv installed.
  const manifest = applyPackageTransaction(
    { entries },
    { remove: [parseRemovalPattern("thing:doc")] },
  );
  assert.deepEqual(
    manifest.entries.map((e) => e.output),
    ["out"],
  );
});
