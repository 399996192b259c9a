/**
 * Narinfo lookups: the SQLite cache with its negative and positive TTLs, cache order by
 * Priority, falling back to the next cache when one fails, and the query functions.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { Substituter } from "../src/index.ts";
import {
  copyCache,
  fixtureCache,
  fixturePaths,
  scratchDir,
  scratchStore,
  TEST_KEYS,
} from "./fixtures.ts";
import { serveDirectory } from "./serve-directory.ts";

const scratch = scratchDir("lookups");
after(() => scratch.dispose());

const SIMPLE = "/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple";
const ABSENT = "/nix/store/00000000000000000000000000000000-absent";
const DEPENDS = "/nix/store/0m8bkhmiir9515daq2hg3288z47cz2l2-depends";

test("a 404 is remembered for the negative TTL, across substituters sharing the cache file", async () => {
  const server = await serveDirectory(fixtureCache("zstd"));
  const store = scratchStore(scratch.dir, "negative");
  let now = Date.parse("2026-01-01T00:00:00Z");
  const cacheFile = join(scratch.dir, "negative-lookups.sqlite");
  const open = () =>
    new Substituter({
      store,
      urls: [server.url],
      trustedKeys: TEST_KEYS,
      cacheFile,
      negativeTtl: 600,
      clock: () => now,
    });
  const narinfoRequests = () => server.requests.filter((path) => path.endsWith(".narinfo")).length;
  try {
    const first = open();
    const failure = (await first.substitutePaths([ABSENT])).failed.get(ABSENT);
    assert.equal(failure, `cannot substitute ${ABSENT}: ${server.url}: not found`);
    assert.equal(narinfoRequests(), 1);
    assert.equal((await first.lookup(server.url, ABSENT)).accepted, false);
    first.close();

    const second = open();
    now += 599_000;
    assert.deepEqual(await second.lookup(server.url, ABSENT), {
      accepted: false,
      reason: "not found",
    });
    assert.equal(narinfoRequests(), 1, "no second request within the TTL");
    now += 2_000;
    await second.lookup(server.url, ABSENT);
    assert.equal(narinfoRequests(), 2, "asked again once the TTL has passed");
    second.close();
  } finally {
    store.close();
    await server.close();
  }
});

test("a found narinfo is cached for the positive TTL and its signature checked on each use", async () => {
  const server = await serveDirectory(fixtureCache("zstd"));
  const store = scratchStore(scratch.dir, "positive");
  let now = 1_000_000;
  const cacheFile = join(scratch.dir, "positive-lookups.sqlite");
  const open = (trustedKeys = TEST_KEYS) =>
    new Substituter({
      store,
      urls: [server.url],
      trustedKeys,
      cacheFile,
      positiveTtl: 100,
      clock: () => now,
    });
  try {
    const trusting = open();
    assert.equal((await trusting.lookup(server.url, SIMPLE)).accepted, true);
    trusting.close();
    // A later substituter without the key refuses the cached narinfo, without asking again.
    const distrusting = open([]);
    const answer = await distrusting.lookup(server.url, SIMPLE);
    assert.equal(answer.accepted, false);
    assert.equal(server.requests.filter((path) => path.endsWith(".narinfo")).length, 1);
    now += 101_000;
    await distrusting.lookup(server.url, SIMPLE);
    assert.equal(server.requests.filter((path) => path.endsWith(".narinfo")).length, 2);
    distrusting.close();
  } finally {
    store.close();
    await server.close();
  }
});

test("caches are tried by Priority, then in the order given, and a failing one falls back", async () => {
  const dir = join(scratch.dir, "priority");
  const broken = copyCache("zstd", join(dir, "broken"));
  const good = copyCache("zstd", join(dir, "good"));
  // The broken cache has priority 10 (first) and serves garbage nars; FileHash catches it.
  writeFileSync(join(broken, "nix-cache-info"), "StoreDir: /nix/store\nPriority: 10\n");
  writeFileSync(join(good, "nix-cache-info"), "StoreDir: /nix/store\nPriority: 20\n");
  const brokenServer = await serveDirectory(broken, {
    respond: (path) => (path.startsWith("/nar/") ? { body: "garbage" } : undefined),
  });
  const goodServer = await serveDirectory(good);
  const store = scratchStore(dir);
  const warnings: string[] = [];
  const substituter = new Substituter({
    store,
    urls: [goodServer.url, brokenServer.url],
    trustedKeys: TEST_KEYS,
    cacheFile: null,
    onWarning: (warning) => warnings.push(warning),
  });
  try {
    const { usable } = await substituter.caches();
    assert.deepEqual(
      usable.map((cache) => [cache.url, cache.priority]),
      [
        [brokenServer.url, 10],
        [goodServer.url, 20],
      ],
    );
    const result = await substituter.substitutePaths([SIMPLE]);
    assert.deepEqual(result.failed, new Map());
    assert.deepEqual(result.substituted, [SIMPLE]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`from ${brokenServer.url}: .*FileSize is 91`));
    assert.ok(brokenServer.requests.some((path) => path.startsWith("/nar/")));
  } finally {
    substituter.close();
    store.close();
    await brokenServer.close();
    await goodServer.close();
  }
});

test("querySubstitutablePathInfos and queryMissing report offers, sizes and what is unknown", async () => {
  const dir = join(scratch.dir, "query");
  const cacheDir = copyCache("zstd", dir);
  writeFileSync(join(cacheDir, "nix-cache-info"), "StoreDir: /nix/store\nWantMassQuery: 0\n");
  const server = await serveDirectory(cacheDir);
  const store = scratchStore(dir);
  const substituter = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: TEST_KEYS,
    cacheFile: null,
  });
  try {
    const { found, missing } = await substituter.querySubstitutablePathInfos([SIMPLE, ABSENT]);
    assert.deepEqual([...found.keys()], [SIMPLE]);
    assert.equal(found.get(SIMPLE)?.cacheUrl, server.url);
    assert.deepEqual(found.get(SIMPLE)?.validBy, ["Sig test-1"]);
    assert.equal(missing.get(ABSENT), `${server.url}: not found`);
    // WantMassQuery: 0 keeps the cache out of mass queries.
    const mass = await substituter.querySubstitutablePathInfos([SIMPLE], { massQuery: true });
    assert.equal(mass.found.size, 0);

    const plan = await substituter.queryMissing([DEPENDS, ABSENT]);
    const closure = fixturePaths("zstd").filter((path) =>
      ["-depends", "-multi-dev", "-multi-lib", "-multi", "-simple"].some((end) =>
        path.endsWith(end),
      ),
    );
    assert.deepEqual([...plan.willSubstitute.keys()].sort(), closure);
    assert.deepEqual([...plan.unknown.keys()], [ABSENT]);
    const narSize = [...plan.willSubstitute.values()].reduce((n, o) => n + o.narinfo.narSize, 0);
    assert.equal(plan.narSize, narSize);
    assert.ok(plan.downloadSize > 0 && plan.downloadSize < narSize);
    assert.equal(store.isValidPath(DEPENDS), false, "queries do not substitute");
  } finally {
    substituter.close();
    store.close();
    await server.close();
  }
});

test("a server that is not a cache, or not reachable, is named in the failure", async () => {
  const dir = join(scratch.dir, "not-a-cache");
  const notCache = await serveDirectory(join(dir, "empty"));
  const unreachable = await serveDirectory(join(dir, "gone"));
  await unreachable.close();
  const store = scratchStore(dir);
  const substituter = new Substituter({
    store,
    urls: [notCache.url, unreachable.url],
    trustedKeys: TEST_KEYS,
    cacheFile: null,
  });
  try {
    const { refused, usable } = await substituter.caches();
    assert.deepEqual(usable, []);
    assert.equal(
      refused[0].reason,
      `${notCache.url} does not appear to be a binary cache (no nix-cache-info)`,
    );
    assert.match(
      refused[1].reason,
      new RegExp(`cannot reach ${unreachable.url}/nix-cache-info: .*ECONNREFUSED`),
    );
    const failure = (await substituter.substitutePaths([SIMPLE])).failed.get(SIMPLE) ?? "";
    assert.ok(failure.includes(refused[0].reason) && failure.includes(refused[1].reason), failure);
  } finally {
    substituter.close();
    store.close();
    await notCache.close();
  }
});
