import assert from "node:assert/strict";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import {
  matchingGenerations,
  parseDuration,
  parseGenerationPattern,
} from "./matching-generations.ts";

const day = 24 * 3600 * 1000;
const now = new Date(2026, 10, 21, 15, 30); // 21 Nov 2026, 15:30 local time
const generations = [
  { number: 1, time: new Date(now.getTime() - 40 * day) },
  { number: 2, time: new Date(now.getTime() - 15 * day) },
  { number: 3, time: new Date(now.getTime() - 8 * day) },
  { number: 5, time: new Date(now.getTime() - 2 * 3600 * 1000) },
];
const match = (pattern: string, relation: "newer" | "older" = "older") =>
  matchingGenerations(parseGenerationPattern(pattern), generations, { now, relation });

test("numbers, lists and ranges select existing generations only", () => {
  assert.deepEqual(match("3"), [3]);
  assert.deepEqual(match("4"), []);
  assert.deepEqual(match("1,3"), [1, 3]);
  assert.deepEqual(match("1,3,3,4"), [1, 3]);
  assert.deepEqual(match("2..5"), [2, 3, 5]);
  assert.deepEqual(match("3.."), [3, 5]);
  assert.deepEqual(match("..3"), [1, 2, 3]);
  const withZero = [{ number: 0, time: now }, ...generations];
  const from0 = matchingGenerations(parseGenerationPattern("0.."), withZero, {
    now,
    relation: "older",
  });
  assert.deepEqual(from0, [0, 1, 2, 3, 5]);
  const upTo = matchingGenerations(parseGenerationPattern("..2"), withZero, {
    now,
    relation: "older",
  });
  assert.deepEqual(upTo, [1, 2]); // ..N starts at 1, as Guix's (iota N 1)
});

test("durations: older for deletion, newer for listing, at the granularity of days", () => {
  assert.deepEqual(match("1m"), [1]); // more than 30 days old
  assert.deepEqual(match("2w"), [1, 2]);
  assert.deepEqual(match("10d"), [1, 2]);
  assert.deepEqual(match("1d"), [1, 2, 3]);
  assert.deepEqual(match("1m", "newer"), [2, 3, 5]);
  assert.deepEqual(match("10d", "newer"), [3, 5]);
  // Hours count from midnight: a generation of today is never older than 1h, and one of
  // yesterday is, even if it is only 16 hours old.
  assert.deepEqual(match("1h"), [1, 2, 3]);
  const yesterday = [{ number: 7, time: new Date(2026, 10, 20, 23, 0) }];
  const late = matchingGenerations(parseGenerationPattern("1h"), yesterday, {
    now: new Date(2026, 10, 21, 0, 30),
    relation: "older",
  });
  assert.deepEqual(late, [7]);
  assert.equal(parseDuration("2w"), 14 * 24 * 3600);
  assert.equal(parseDuration("30s"), 30);
  assert.equal(parseDuration("3y"), undefined);
});

test("anything else is invalid syntax", () => {
  for (const bad of ["", "abc", "5..2", "1,", ",1", "1..2..3", "1.5", "3y", "-1d"]) {
    assert.throws(
      () => parseGenerationPattern(bad),
      (error: KilnError) =>
        error.code === "ERR_PROFILE_INVALID_PATTERN" && error.message === `invalid syntax: ${bad}`,
      bad,
    );
  }
});
