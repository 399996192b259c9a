import assert from "node:assert/strict";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import { parseSize } from "./parse-size.ts";

test("sizes parse as Guix's size->number: binary and decimal units, decimals rounded", () => {
  const cases: Array<[string, number]> = [
    ["1024", 1024],
    ["0", 0],
    ["500MiB", 500 * 2 ** 20],
    ["5G", 5 * 2 ** 30],
    ["5GiB", 5 * 2 ** 30],
    ["1k", 1024],
    ["1K", 1024],
    ["1KiB", 1024],
    ["2T", 2 * 2 ** 40],
    ["1kB", 1000],
    ["3MB", 3e6],
    ["1GB", 1e9],
    ["1.5kB", 1500],
    ["0.5M", 2 ** 19],
    ["1.0000001", 1],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

test("bad sizes are errors naming the problem", () => {
  assert.throws(
    () => parseSize("lots"),
    (e: KilnError) => /invalid number: lots/.test(e.message),
  );
  assert.throws(
    () => parseSize("5X"),
    (e: KilnError) => /unknown unit: X/.test(e.message),
  );
  assert.throws(
    () => parseSize("5KB"),
    (e: KilnError) => e.code === "ERR_GC_BAD_SIZE",
  );
  assert.throws(
    () => parseSize("-5G"),
    (e: KilnError) => e.code === "ERR_GC_BAD_SIZE",
  );
});
