import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { LocalStore } from "@kiln/store/local-store";
import { PathInfoCache } from "./path-info-cache.ts";
import { writePathInfo } from "./wire-path-info.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-path-info-cache-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("cached answers follow every commit to the database", async () => {
  const config = {
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  };
  const store = LocalStore.open(config);
  const cache = new PathInfoCache(store);
  try {
    assert.equal(cache.readsWalIndex, true, "the cache should watch the WAL index, not fall back");
    const path = await store.addTextToStore("cached", "cached\n");
    assert.deepEqual(cache.get(path), store.db.queryPathInfo(path));
    assert.equal(cache.isValid(path), true);
    // A commit through the store's own connection...
    store.db.addSignatures(path, ["cache-1:c2ln"]);
    assert.deepEqual(cache.get(path)?.sigs, ["cache-1:c2ln"]);
    // ...and through another connection, as another process would.
    const other = LocalStore.open(config);
    other.db.addSignatures(path, ["cache-2:c2ln"]);
    other.close();
    assert.deepEqual(cache.get(path)?.sigs, ["cache-1:c2ln", "cache-2:c2ln"]);
    const format = { minor: 34, dialect: "nix" as const };
    const expected = new FrameWriter();
    writePathInfo(expected, cache.get(path)!, format);
    assert.deepEqual(cache.encoded(path, format), expected.take());
    store.db.invalidatePath(path);
    assert.equal(cache.get(path), undefined);
    assert.equal(cache.isValid(path), false);
    assert.equal(cache.encoded(path, format), undefined);
  } finally {
    cache.close();
    store.close();
  }
});
