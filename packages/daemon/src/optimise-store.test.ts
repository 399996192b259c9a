import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { verifyStore } from "@kiln/store/verify-store";
import { optimiseStore, pruneLinks } from "./optimise-store.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-optimise-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("identical files become one inode; the store still verifies", async () => {
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
  try {
    const one = await store.addTextToStore("one", "same contents\n");
    const two = await store.addTextToStore("two", "same contents\n");
    const other = await store.addTextToStore("other", "different\n");
    assert.notEqual(lstatSync(store.realPath(one)).ino, lstatSync(store.realPath(two)).ino);
    const result = await optimiseStore(store);
    assert.deepEqual(result, { filesLinked: 1, bytesFreed: "same contents\n".length });
    assert.equal(lstatSync(store.realPath(one)).ino, lstatSync(store.realPath(two)).ino);
    assert.notEqual(lstatSync(store.realPath(one)).ino, lstatSync(store.realPath(other)).ino);
    assert.equal(lstatSync(store.realPath(two)).mode & 0o777, 0o444);
    assert.equal((await verifyStore(store, { checkContents: true })).clean, true);
    assert.deepEqual(await optimiseStore(store), { filesLinked: 0, bytesFreed: 0 }, "idempotent");
    assert.equal(pruneLinks(store), 0, "every link is in use");
  } finally {
    store.close();
  }
});
