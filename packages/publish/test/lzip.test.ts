/**
 * `-C lzip[:LEVEL]`: nars compressed by the `lzip` program, baked or live, substitute
 * back through Kiln's own substituter (which decompresses with `lzip -d`), with every
 * check (FileHash, FileSize, NarHash) passing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { parseTrustedKeys } from "@kiln/formats/verify-narinfo";
import { LocalStore } from "@kiln/store/local-store";
import { Substituter } from "@kiln/substituter/substituter";
import { requirePeer } from "@kiln/testkit";
import { parseCompression } from "../src/compression.ts";
import { startPublishServer } from "../src/publish-server.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";

let fixture: PublishFixture;
before(async () => {
  fixture = await createPublishFixture();
});
after(() => fixture.dispose());

async function substituteFrom(url: string, name: string): Promise<LocalStore> {
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(fixture.root, name, "store"),
    stateDir: join(fixture.root, name, "state"),
  });
  const substituter = new Substituter({
    store,
    urls: [url],
    trustedKeys: parseTrustedKeys(readFileSync(fixture.publicKeyFile, "utf8")),
    cacheFile: null,
  });
  try {
    const result = await substituter.substitutePaths([fixture.text]);
    assert.deepEqual(result.failed, new Map());
    assert.deepEqual([...result.substituted].sort(), [fixture.text, fixture.tree].sort());
  } finally {
    substituter.close();
  }
  return store;
}

for (const baked of [true, false]) {
  test(`a nar ${baked ? "baked" : "compressed live"} with lzip substitutes back through Kiln`, async (t) => {
    if (!requirePeer(t, "lzip")) return;
    const dir = mkdtempSync(join(fixture.root, "cache-"));
    const publish = await startPublishServer({
      store: fixture.publishStore,
      key: fixture.key,
      port: 0,
      compressions: [parseCompression("lzip:9")],
      ...(baked ? { cache: { dir, bypassThreshold: 0, workers: 2 } } : {}),
    });
    try {
      if (baked) {
        for (const path of [fixture.text, fixture.tree])
          await (await fetch(`${publish.url}/${path.slice(11, 43)}.narinfo`)).text();
        await publish.context.cache!.idle();
      }
      const text = await (
        await fetch(`${publish.url}/${fixture.tree.slice(11, 43)}.narinfo`)
      ).text();
      const [group] = parseNarinfo(text).urls;
      assert.equal(group.compression, "lzip");
      assert.equal(group.url, `nar/lzip/${fixture.tree.slice(11)}`);
      // Baked: FileSize and FileHash of the .lz file; live: unknown until sent.
      assert.equal(group.fileSize !== undefined, baked);
      const store = await substituteFrom(publish.url, baked ? "baked" : "live");
      try {
        assert.equal(
          readFileSync(join(store.realPath(fixture.tree), "README"), "utf8"),
          "hello from kiln publish\n".repeat(200),
        );
        assert.equal(
          store.queryPathInfo(fixture.tree)?.narHash,
          fixture.store.queryPathInfo(fixture.tree)?.narHash,
        );
      } finally {
        store.close();
      }
    } finally {
      await publish.close();
    }
  });
}

test("kiln publish -C lzip without the lzip program refuses to start, saying so", async () => {
  await assert.rejects(
    startPublishServer({
      store: fixture.publishStore,
      key: fixture.key,
      port: 0,
      compressions: [parseCompression("lzip")],
      programs: { lzip: "kiln-no-such-lzip" },
    }),
    { code: "ERR_PUBLISH_COMPRESSION", message: /needs the kiln-no-such-lzip program/ },
  );
});
