import assert from "node:assert/strict";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  COPY_OWNER,
  cleanSandboxStoreDir,
  prepareSandboxStoreDir,
  type WantedStoreEntry,
} from "./sandbox-store-dir.ts";

const isRoot = process.getuid?.() === 0;

test("input copies are read-only, owned by nobody, and replaced once touched", {
  skip: !isRoot && "needs root (copies are chowned)",
}, () => {
  const root = mkdtempSync(join(tmpdir(), "kiln-sandbox-store-"));
  try {
    const store = join(root, "store");
    mkdirSync(store);
    const source = (name: string, text: string) => {
      const path = join(root, name);
      writeFileSync(path, text);
      chmodSync(path, 0o444);
      return path;
    };
    const wanted = new Map<string, WantedStoreEntry>([
      ["a-data", { kind: "copy", realPath: source("a", "data\n"), mode: 0o100444 }],
      ["b-tool", { kind: "copy", realPath: source("b", "#!/bin/sh\n"), mode: 0o100555 }],
      ["c-dir", { kind: "directory" }],
      ["d-file", { kind: "file" }],
    ]);
    const state = prepareSandboxStoreDir(store, wanted, undefined);
    const a = lstatSync(join(store, "a-data"));
    assert.equal(readFileSync(join(store, "a-data"), "utf8"), "data\n");
    assert.deepEqual(
      [a.uid, a.gid, a.mode & 0o7777, a.mtimeMs],
      [COPY_OWNER, COPY_OWNER, 0o444, 1000],
    );
    assert.equal(lstatSync(join(store, "b-tool")).mode & 0o7777, 0o555);
    // What bwrap and the build would do: mount points, an output, junk, a touched copy.
    mkdirSync(join(store, "c-dir"));
    writeFileSync(join(store, "d-file"), "");
    writeFileSync(join(store, "out"), "output");
    mkdirSync(join(store, "junk"));
    chmodSync(join(store, "b-tool"), 0o755);

    cleanSandboxStoreDir(store, state);
    assert.deepEqual(readdirSync(store).sort(), ["a-data", "b-tool", "c-dir", "d-file"]);

    wanted.delete("d-file");
    const again = prepareSandboxStoreDir(store, wanted, state);
    assert.deepEqual(readdirSync(store).sort(), ["a-data", "b-tool", "c-dir"]);
    assert.equal(lstatSync(join(store, "a-data")).ino, a.ino, "an intact copy is kept");
    const b = lstatSync(join(store, "b-tool"));
    assert.equal(b.mode & 0o7777, 0o555, "a touched copy is made again");
    assert.deepEqual([...again.keys()].sort(), ["a-data", "b-tool", "c-dir"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a sandbox set up early keeps unwanted entries until its inputs are all known", () => {
  const root = mkdtempSync(join(tmpdir(), "kiln-sandbox-store-"));
  try {
    const store = join(root, "store");
    mkdirSync(store);
    for (const name of ["a-lib", "b-old", "c-late"]) mkdirSync(join(store, name));
    const previous = new Map([
      ["a-lib", { kind: "directory" as const }],
      ["b-old", { kind: "directory" as const }],
      ["c-late", { kind: "directory" as const }],
    ]);
    const known = new Map<string, WantedStoreEntry>([["a-lib", { kind: "directory" }]]);
    const early = prepareSandboxStoreDir(store, known, previous, { keepUnwanted: true });
    assert.deepEqual(readdirSync(store).sort(), ["a-lib", "b-old", "c-late"]);
    // Once the late input is known: exactly the closure, nothing the builder could see else.
    const all = new Map([...known, ["c-late", { kind: "directory" as const }]]);
    prepareSandboxStoreDir(store, all, early);
    assert.deepEqual(readdirSync(store).sort(), ["a-lib", "c-late"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
