import assert from "node:assert/strict";
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { PathInfo } from "@kiln/store/path-info";
import pino from "pino";
import { bakedNarFile, bakedNarinfoFile, bakeItem } from "../src/bake-item.ts";
import { parseCompression } from "../src/compression.ts";
import { evictBaked } from "../src/evict-baked.ts";
import { NarCache } from "../src/nar-cache.ts";
import { NarinfoSource } from "../src/narinfo-source.ts";
import { createPublishMetrics } from "../src/publish-metrics.ts";
import type { PublishStore } from "../src/publish-store.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";
import { spyStore } from "./spy-store.ts";

let fixture: PublishFixture;
before(async () => {
  fixture = await createPublishFixture();
});
after(() => fixture.dispose());

const compressions = ["zstd", "none"].map(parseCompression);
const signer = () => ({ key: fixture.key, hostname: "farm", keyName: "farm-1" });

/** The fixture's store, with some items pretended gone. */
function storeWithout(gone: readonly string[]): PublishStore {
  const inner = fixture.publishStore;
  return { ...inner, pathInfo: (path) => (gone.includes(path) ? undefined : inner.pathInfo(path)) };
}

test("--ttl eviction removes old baked files of items that left the store, and stale temporaries", async () => {
  const dir = mkdtempSync(join(fixture.root, "evict-"));
  const options = { dir, compressions, narPath: "nar", signer: signer() };
  for (const path of [fixture.tree, fixture.text, fixture.built]) {
    await bakeItem(fixture.store.queryPathInfo(path)!, fixture.store.realPath(path), options);
  }
  const files = (path: string) => {
    const base = path.slice(11);
    return [
      bakedNarFile(dir, "zstd", base),
      bakedNarFile(dir, "none", base),
      bakedNarinfoFile(dir, compressions, base),
    ];
  };
  const now = Date.now();
  const old = new Date(now - 10 * 86_400_000);
  // tree: gone and old → evicted; text: gone but recent → kept; built: old but valid → kept.
  for (const file of [...files(fixture.tree), ...files(fixture.built)]) utimesSync(file, old, old);
  const staleTemporary = join(dir, "zstd", ".x-demo.nar.tmp-0123456789ab");
  const freshTemporary = join(dir, "zstd", ".y-demo.nar.tmp-0123456789ab");
  writeFileSync(staleTemporary, "partial");
  writeFileSync(freshTemporary, "partial");
  utimesSync(staleTemporary, old, old);

  const removed = evictBaked({
    dir,
    compressions,
    store: storeWithout([fixture.tree, fixture.text]),
    ttl: 5 * 86_400,
    now,
  });
  assert.deepEqual(removed.sort(), [...files(fixture.tree), staleTemporary].sort());
  for (const file of [...files(fixture.text), ...files(fixture.built), freshTemporary]) {
    assert.ok(existsSync(file), file);
  }
});

test("the bake queue is bounded and holds each item once", () => {
  const cache = new NarCache({
    dir: mkdtempSync(join(fixture.root, "queue-")),
    compressions,
    narPath: "nar",
    signer: signer(),
    store: fixture.publishStore,
    bypassThreshold: 0,
    workers: 0, // nobody takes work off the queue: only the queue is observed
    maxQueue: 2,
    metrics: createPublishMetrics(),
    logger: pino({ level: "silent" }),
  });
  cache.enqueue(fixture.tree);
  cache.enqueue(fixture.tree);
  cache.enqueue(fixture.text);
  cache.enqueue(fixture.built);
  assert.deepEqual(cache.stats(), { queued: 2, active: 0 });
});

test("narinfos stay in memory for a while and up to a number of entries", () => {
  let clock = 1_000_000;
  let present = true;
  const inner = spyStore(fixture.publishStore);
  const store: PublishStore = {
    ...inner,
    pathFromHashPart: (hashPart) => {
      const path = inner.pathFromHashPart(hashPart);
      return present ? path : undefined;
    },
  };
  const source = new NarinfoSource({
    store,
    signer: signer(),
    compressions,
    narPath: "nar",
    memoryMs: 60_000,
    maxEntries: 2,
    now: () => clock,
  });
  const [a, b, c] = [fixture.tree, fixture.text, fixture.built].map((path) => path.slice(11, 43));
  const lookups = () => inner.calls.filter((call) => call.startsWith("pathFromHashPart")).length;
  assert.equal(source.lookup(a).kind, "found");
  assert.equal(source.lookup(b).kind, "found");
  assert.equal(lookups(), 2);
  source.lookup(a);
  source.lookup(b);
  assert.equal(lookups(), 2); // both from memory
  source.lookup(c); // pushes out the oldest entry, a
  source.lookup(b);
  assert.equal(lookups(), 3);
  source.lookup(a);
  assert.equal(lookups(), 4);
  // Once an entry is older than memoryMs the store is asked again; a gone item is a 404.
  clock += 60_001;
  present = false;
  assert.equal(source.lookup(a).kind, "missing");
  assert.equal(lookups(), 5);
});

test("a PathInfo without the item is never baked", async () => {
  const info: PathInfo = {
    ...fixture.store.queryPathInfo(fixture.tree)!,
    narHash: "sha256:0000000000000000000000000000000000000000000000000000",
  };
  const dir = mkdtempSync(join(fixture.root, "mismatch-"));
  await assert.rejects(
    bakeItem(info, fixture.store.realPath(fixture.tree), {
      dir,
      compressions,
      narPath: "nar",
      signer: signer(),
    }),
    /on disk has NAR sha256:.*the store says sha256:0000/,
  );
  assert.ok(!existsSync(bakedNarFile(dir, "zstd", fixture.tree.slice(11))));
});
