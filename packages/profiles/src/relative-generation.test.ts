import assert from "node:assert/strict";
import { test } from "node:test";
import { relativeGeneration } from "./relative-generation.ts";

test("relative generations move along the existing ones, skipping holes", () => {
  const numbers = [0, 1, 2, 5, 9];
  assert.equal(relativeGeneration(numbers, 5, -1), 2);
  assert.equal(relativeGeneration(numbers, 5, 1), 9);
  assert.equal(relativeGeneration(numbers, 5, -3), 0);
  assert.equal(relativeGeneration(numbers, 5, -4), undefined);
  assert.equal(relativeGeneration(numbers, 9, 1), undefined);
  assert.equal(relativeGeneration(numbers, 3, -1), undefined); // current not among them
  assert.equal(relativeGeneration(numbers, 2, 0), 2);
});
