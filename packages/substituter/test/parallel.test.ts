/**
 * Concurrency: lookups and downloads run in parallel within their limits, a shared
 * reference is substituted once before its referrers, and a slow server answer holds up
 * only its own download. Also: Guix-signed narinfos in Guix's layout substitute.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateGuixKeyPair } from "@kiln/formats/guix-key";
import { Substituter } from "../src/index.ts";
import { scratchDir, scratchStore, TEST_KEYS } from "./fixtures.ts";
import { serveDirectory } from "./serve-directory.ts";
import { writeSyntheticCache } from "./synthetic-cache.ts";

const scratch = scratchDir("parallel");
after(() => scratch.dispose());

test("many paths substitute concurrently, within the limits, references first", async () => {
  const dir = join(scratch.dir, "many");
  const paths = writeSyntheticCache(join(dir, "cache"), { count: 40, sharedReference: true });
  const server = await serveDirectory(join(dir, "cache"), {
    delay: (path) => (path.startsWith("/nar/") ? 40 : path.endsWith(".narinfo") ? 20 : 0),
  });
  const store = scratchStore(dir);
  const order: string[] = [];
  const substituter = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: TEST_KEYS,
    cacheFile: null,
    downloadConcurrency: 6,
    onProgress: (event) => {
      if (event.done) order.push(event.path);
    },
  });
  try {
    const start = performance.now();
    // Only the referrers are asked for: the shared reference comes with them.
    const result = await substituter.substitutePaths(paths.slice(1));
    const elapsed = performance.now() - start;
    assert.deepEqual(result.failed, new Map());
    assert.deepEqual([...result.substituted].sort(), [...paths].sort());
    for (const path of paths) assert.ok(store.isValidPath(path), path);
    assert.equal(order[0], paths[0], "the shared reference is downloaded first");
    assert.equal(server.requests.filter((path) => path.startsWith("/nar/")).length, 40);
    assert.equal(server.maxConcurrentNars(), 6, "downloads overlap up to the limit, no further");
    // Serially this is 40 × (20 + 40) ms = 2.4 s; in parallel a fraction of that.
    assert.ok(elapsed < 1600, `took ${elapsed.toFixed(0)} ms`);
  } finally {
    substituter.close();
    store.close();
    await server.close();
  }
});

test("a slow nar does not stall the other downloads", async () => {
  const dir = join(scratch.dir, "slow");
  const paths = writeSyntheticCache(join(dir, "cache"), { count: 12 });
  const slowHash = paths[3].slice(11, 43);
  let slowNar = "";
  const server = await serveDirectory(join(dir, "cache"), {
    delay: (path) => (path === slowNar ? 1000 : 0),
  });
  // The nar URL of the slow path, from its narinfo.
  slowNar = `/${/^URL: (.*)$/m.exec(readFileSync(join(dir, "cache", `${slowHash}.narinfo`), "utf8"))![1]}`;
  const store = scratchStore(dir);
  const finished = new Map<string, number>();
  const start = performance.now();
  const substituter = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: TEST_KEYS,
    cacheFile: null,
    downloadConcurrency: 3,
    onProgress: (event) => {
      if (event.done) finished.set(event.path, performance.now() - start);
    },
  });
  try {
    const result = await substituter.substitutePaths(paths);
    assert.deepEqual(result.failed, new Map());
    const slow = finished.get(paths[3])!;
    const others = paths.filter((_, index) => index !== 3).map((path) => finished.get(path)!);
    assert.ok(slow >= 1000, `slow one finished at ${slow.toFixed(0)} ms`);
    // Serial downloads would finish items 4–11 after the slow one.
    assert.ok(
      Math.max(...others) < slow - 200,
      `others finished by ${Math.max(...others).toFixed(0)} ms`,
    );
  } finally {
    substituter.close();
    store.close();
    await server.close();
  }
});

test("Guix-flavoured narinfos signed only with a Guix Signature: substitute with the farm's key", async () => {
  const dir = join(scratch.dir, "guix");
  const farm = generateGuixKeyPair();
  const paths = writeSyntheticCache(join(dir, "cache"), {
    count: 5,
    sharedReference: true,
    guixKey: farm,
  });
  const server = await serveDirectory(join(dir, "cache"));
  const store = scratchStore(dir);
  const trusting = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: [{ kind: "guix", q: farm.q }],
    cacheFile: null,
  });
  const other = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: [{ kind: "guix", q: generateGuixKeyPair().q }, ...TEST_KEYS],
    cacheFile: null,
  });
  try {
    const refused = await other.substitutePaths([paths[1]]);
    assert.match(refused.failed.get(paths[1]) ?? "", /Signature farm\.example: unauthorized key/);
    const { found } = await trusting.querySubstitutablePathInfos([paths[1]]);
    assert.deepEqual(found.get(paths[1])?.validBy, ["Signature farm.example"]);
    const result = await trusting.substitutePaths(paths);
    assert.deepEqual(result.failed, new Map());
    assert.equal(result.substituted.length, 5);
    assert.deepEqual(store.queryPathInfo(paths[2])?.references, [paths[0]]);
    assert.deepEqual(store.queryPathInfo(paths[2])?.sigs, [], "a Guix signature is not a Nix Sig");
  } finally {
    trusting.close();
    other.close();
    store.close();
    await server.close();
  }
});
