import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { KilnError } from "@kiln/formats/kiln-error";
import { dumpPath } from "@kiln/formats/nar-writer";
import { scratchStore } from "../test/scratch-store.ts";
import { verifyStore } from "./verify-store.ts";

test("adding a tree makes it valid, canonical and content-addressed; adding it again rewrites nothing", async () => {
  const { store, tree } = scratchStore();
  const src = tree("hello", { "bin/hello.sh": "#!/bin/sh\necho hi\n", "share/doc": "doc\n" });
  chmodSync(join(src, "share/doc"), 0o4755); // a setuid bit must not reach the store
  const path = await store.addToStore(src);
  assert.match(path, /^\/gnu\/store\/[0-9a-z]{32}-hello$/);
  const info = store.requirePathInfo(path);
  assert.match(info.ca ?? "", /^fixed:r:sha256:/);
  const real = store.realPath(path);
  const exe = lstatSync(join(real, "bin/hello.sh"));
  const doc = lstatSync(join(real, "share/doc"));
  assert.equal(exe.mode & 0o7777, 0o555);
  assert.equal(doc.mode & 0o7777, 0o555); // executable (it had x bits), but no setuid
  assert.equal(exe.mtimeMs, 1000);
  const before = lstatSync(real).ino;
  assert.equal(await store.addToStore(src), path);
  assert.equal(lstatSync(real).ino, before);
  assert.deepEqual(readdirSync(store.config.realStoreDir), [path.slice("/gnu/store/".length)]);
});

test("flat files and text files get the paths Nix gives them", async () => {
  const { store, tree } = scratchStore("/nix/store");
  const src = tree("flat", { "hello.txt": "hello\n" });
  // From the store-path vectors: flat sha256 of "hello\n", and builtins.toFile.
  const flat = await store.addToStore(join(src, "hello.txt"), { method: "flat" });
  assert.equal(readFileSync(store.realPath(flat), "utf8"), "hello\n");
  const text = await store.addTextToStore("hello.txt", "hello\n");
  assert.equal(text, "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
  const refers = await store.addTextToStore("refers", `uses ${text}`, [text]);
  assert.deepEqual(store.requirePathInfo(refers).references, [text]);
  assert.deepEqual(store.requisites([refers]), [text, refers].sort());
});

test("a NAR whose hash does not match is refused and leaves nothing behind", async () => {
  const { store, tree } = scratchStore();
  const src = tree("x", { a: "a\n" });
  const path = "/gnu/store/00000000000000000000000000000000-x";
  await assert.rejects(
    store.addNarToStore(dumpPath(src), {
      path,
      narHash: "sha256:0ip26j2h11n1kgkz36rl4akv694yz65hr72q4kv4b3lxcbi65b3p",
      references: [],
    }),
    (error: KilnError) =>
      error.code === "ERR_STORE_HASH_MISMATCH" && /expected sha256:0ip26/.test(error.message),
  );
  assert.equal(store.isValidPath(path), false);
  assert.deepEqual(readdirSync(store.config.realStoreDir), []);
});

test("a reference that is not valid is refused", async () => {
  const { store } = scratchStore();
  await assert.rejects(
    store.addTextToStore("t", "x", ["/gnu/store/00000000000000000000000000000000-y"]),
    /is not valid/,
  );
  await assert.rejects(store.addTextToStore("bad name!", "x"), KilnError);
});

test("verify finds missing and corrupted paths and clears leftovers of a crash", async () => {
  const { store, tree } = scratchStore();
  const a = await store.addToStore(tree("a", { f: "a\n" }));
  const b = await store.addToStore(tree("b", { f: "b\n" }));
  // Leftovers: an unregistered store entry, a temporary copy, a stale lock.
  const stray = join(store.config.realStoreDir, "11111111111111111111111111111111-stray");
  mkdirSync(stray);
  mkdirSync(
    join(store.config.realStoreDir, "22222222222222222222222222222222-c.kiln-new-abcdef123456"),
  );
  writeFileSync(
    join(store.config.realStoreDir, "33333333333333333333333333333333-d.lock"),
    "999999999\n",
  );
  let report = await verifyStore(store, { checkContents: true });
  assert.equal(report.clean, true);
  assert.equal(report.removed.length, 3);
  assert.equal(existsSync(stray), false);

  chmodSync(join(store.realPath(a), "f"), 0o644);
  writeFileSync(join(store.realPath(a), "f"), "tampered\n");
  const { rmSync } = await import("node:fs");
  rmSync(store.realPath(b), { recursive: true, force: true });
  report = await verifyStore(store, { checkContents: true });
  assert.equal(report.clean, false);
  assert.deepEqual(report.missing, [b]);
  assert.match(report.corrupted[0], new RegExp(`^${a}: registered sha256:`));
  report = await verifyStore(store, { checkContents: true, repair: true });
  assert.deepEqual(report.repaired.sort(), [a, b].sort());
  assert.equal(store.isValidPath(a), false);
  assert.equal((await verifyStore(store, { checkContents: true })).clean, true);
});
