import assert from "node:assert/strict";
import { test } from "node:test";
import { compareVersions, findPackage } from "./find-package.ts";
import type { Package } from "./package.ts";

const make = (name: string, version: string): Package => ({
  name,
  version,
  buildSystem: "trivial",
  synopsis: "",
  description: "",
  license: [],
});
const packages = [
  make("hello", "2.9"),
  make("hello", "2.10"),
  make("hello", "3.0-rc1"),
  make("calc", "1"),
];

test("versions compare numerically by segment", () => {
  assert.ok(compareVersions("2.10", "2.9") > 0);
  assert.ok(compareVersions("2.9", "2.10") < 0);
  assert.equal(compareVersions("1.0", "1.0"), 0);
});

test("NAME picks the newest version, NAME@VERSION an exact or prefix match", () => {
  assert.equal(findPackage(packages, "hello").version, "3.0-rc1");
  assert.equal(findPackage(packages, "hello@2.9").version, "2.9");
  assert.equal(findPackage(packages, "hello@2").version, "2.10");
  assert.throws(() => findPackage(packages, "hello@4"), /no version 4/);
  assert.throws(() => findPackage(packages, "nope"), /unknown package "nope"/);
});
