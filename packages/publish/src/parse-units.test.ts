import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration } from "./parse-duration.ts";
import { parseRange } from "./parse-range.ts";
import { parseSize } from "./parse-size.ts";

test("durations in Guix's notation", () => {
  assert.equal(parseDuration("30s"), 30);
  assert.equal(parseDuration("12h"), 43_200);
  assert.equal(parseDuration("5d"), 432_000);
  assert.equal(parseDuration("2w"), 1_209_600);
  assert.equal(parseDuration("1m"), 2_592_000);
  for (const bad of ["5", "d", "5x", "-1d", "1.5d", " 5d"]) {
    assert.throws(() => parseDuration(bad), /is not a duration/, bad);
  }
});

test("sizes in Guix's notation", () => {
  assert.equal(parseSize("10M"), 10 * 1024 * 1024);
  assert.equal(parseSize("10MB"), 10_000_000);
  assert.equal(parseSize("500K"), 512_000);
  assert.equal(parseSize("1GiB"), 2 ** 30);
  assert.equal(parseSize("1.5K"), 1536);
  assert.equal(parseSize("123"), 123);
  for (const bad of ["", "M", "10X", "-1M", "1e3"]) {
    assert.throws(() => parseSize(bad), /is not a size/, bad);
  }
});

test("single byte ranges; anything else is ignored or unsatisfiable", () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: "none" });
  assert.deepEqual(parseRange("bytes=0-9", 100), { kind: "range", start: 0, end: 9 });
  assert.deepEqual(parseRange("bytes=90-", 100), { kind: "range", start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=90-500", 100), { kind: "range", start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-10", 100), { kind: "range", start: 90, end: 99 });
  assert.deepEqual(parseRange("bytes=-500", 100), { kind: "range", start: 0, end: 99 });
  assert.deepEqual(parseRange("bytes=100-", 100), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=-0", 100), { kind: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=0-1,5-6", 100), { kind: "none" });
  assert.deepEqual(parseRange("items=0-1", 100), { kind: "none" });
  assert.deepEqual(parseRange("bytes=9-3", 100), { kind: "none" });
  assert.deepEqual(parseRange("bytes=-", 100), { kind: "none" });
});
