import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { NarinfoCache } from "./narinfo-cache.ts";

test("entries expire after their TTL; negative entries may carry their own", () => {
  let now = 1_000_000;
  const cache = new NarinfoCache(":memory:", {
    positiveTtl: 60,
    negativeTtl: 10,
    clock: () => now,
  });
  cache.putPresent("http://a", "h1", "StorePath: …\n");
  cache.putAbsent("http://a", "h2");
  cache.putAbsent("http://a", "h3", 100);
  assert.deepEqual(cache.get("http://a", "h1"), { text: "StorePath: …\n" });
  assert.deepEqual(cache.get("http://a", "h2"), { text: undefined });
  assert.equal(cache.get("http://b", "h1"), undefined, "answers are per cache");
  now += 10_001;
  assert.equal(cache.get("http://a", "h2"), undefined);
  assert.deepEqual(cache.get("http://a", "h3"), { text: undefined });
  assert.ok(cache.get("http://a", "h1"));
  now += 50_000;
  assert.equal(cache.get("http://a", "h1"), undefined);
  cache.putPresent("http://a", "h1", "again\n");
  cache.forget("http://a", "h1");
  assert.equal(cache.get("http://a", "h1"), undefined);
  cache.close();
});

test("the cache persists in its SQLite file", () => {
  const dir = mkdtempSync(join(tmpdir(), "kiln-narinfo-cache-"));
  try {
    const file = join(dir, "deep", "substitute-cache.sqlite");
    const first = new NarinfoCache(file);
    first.putPresent("http://a", "h", "text\n");
    first.close();
    const second = new NarinfoCache(file);
    assert.deepEqual(second.get("http://a", "h"), { text: "text\n" });
    second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
