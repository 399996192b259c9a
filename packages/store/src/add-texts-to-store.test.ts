import assert from "node:assert/strict";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { scratchStore } from "../test/scratch-store.ts";
import { verifyStore } from "./verify-store.ts";

const DRV = (out: string) =>
  `Derive([("out","${out}","","")],[],[],"x86_64-linux","/bin/sh",[],[("out","${out}")])`;

test("a batch of texts gets the paths, hashes and registrations that adding them one by one gives", async () => {
  const one = scratchStore();
  const batch = scratchStore();
  const base = await one.store.addTextToStore("base.txt", "base\n");
  const top = await one.store.addTextToStore("top.txt", "top\n", [base]);
  const drv = await one.store.addTextToStore("x.drv", DRV("/gnu/store/aaaa-x"), [top]);

  const paths = await batch.store.addTextsToStore([
    { name: "base.txt", text: "base\n" },
    { name: "top.txt", text: "top\n", references: [base] },
    { name: "x.drv", text: DRV("/gnu/store/aaaa-x"), references: [top] },
    { name: "base.txt", text: "base\n" },
  ]);
  assert.deepEqual(paths, [base, top, drv, base]);
  for (const path of [base, top, drv]) {
    const expected = one.store.requirePathInfo(path);
    const actual = batch.store.requirePathInfo(path);
    assert.equal(actual.narHash, expected.narHash);
    assert.equal(actual.narSize, expected.narSize);
    assert.equal(actual.ca, expected.ca);
    assert.deepEqual(actual.references, expected.references);
    const real = batch.store.realPath(path);
    assert.equal(formatHashNix32((await hashPath(real)).hash), actual.narHash);
    assert.equal(lstatSync(real).mode & 0o7777, 0o444);
    assert.equal(lstatSync(real).mtimeMs, 1000);
  }
  assert.equal(readFileSync(batch.store.realPath(top), "utf8"), "top\n");
  assert.deepEqual(Object.fromEntries(batch.store.db.derivationOutputs(drv)), {
    out: "/gnu/store/aaaa-x",
  });
  const report = await verifyStore(batch.store, { checkContents: true });
  assert.equal(report.clean, true);
  assert.deepEqual(report.removed, []);
});

test("texts already valid are not rewritten", async () => {
  const { store } = scratchStore();
  const [path] = await store.addTextsToStore([{ name: "a.txt", text: "a\n" }]);
  const inode = lstatSync(store.realPath(path as string)).ino;
  const again = await store.addTextsToStore([
    { name: "a.txt", text: "a\n" },
    { name: "b.txt", text: "b\n", references: [path as string] },
  ]);
  assert.equal(again[0], path);
  assert.equal(lstatSync(store.realPath(path as string)).ino, inode);
  assert.equal(store.isValidPath(again[1] as string), true);
});

test("a batch with a reference that is neither valid nor in the batch is refused and writes nothing", async () => {
  const { store } = scratchStore();
  await assert.rejects(
    store.addTextsToStore([
      { name: "a.txt", text: "a\n" },
      {
        name: "b.txt",
        text: "b\n",
        references: ["/gnu/store/00000000000000000000000000000000-missing"],
      },
    ]),
    /missing/,
  );
  assert.deepEqual(readdirSync(store.config.realStoreDir), []);
});
