import assert from "node:assert/strict";
import { test } from "node:test";
import { licenses } from "./licenses.ts";
import type { Package } from "./package.ts";
import { packageRecord } from "./package-record.ts";

const dep: Package = {
  name: "dep",
  version: "1",
  buildSystem: "trivial",
  synopsis: "Dependency",
  description: "Dep.",
  license: licenses.cc0,
};
const pkg: Package = {
  ...dep,
  name: "thing",
  version: "2.0",
  outputs: ["out", "doc"],
  inputs: [dep, [dep, "doc"]],
  supportedSystems: ["x86_64-linux"],
  license: [licenses.gpl3Plus, licenses.fdl13Plus],
  homePage: "https://example.org/thing",
  synopsis: "Do a thing",
  description: `${"word ".repeat(30)}end.\n\nSecond paragraph.`,
};

test("the record has guix show's fields in order, with + continuation lines", () => {
  const record = packageRecord(pkg, { location: "modules/thing.ts" });
  const lines = record.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, 11), [
    "name: thing",
    "version: 2.0",
    "outputs:",
    "+ out: everything else",
    "+ doc: documentation",
    "systems: x86_64-linux",
    "dependencies: dep@1 dep@1:doc",
    "location: modules/thing.ts",
    "homepage: https://example.org/thing",
    "license: GPL-3.0-or-later, GFDL-1.3-or-later",
    "synopsis: Do a thing",
  ]);
  const description = lines.slice(11);
  assert.match(description[0]!, /^description: word word/);
  assert.ok(description.every((line) => line.length <= 72 + "description: ".length));
  assert.ok(description.slice(1).every((line) => line.startsWith("+")));
  assert.deepEqual(description.slice(-2), ["+", "+ Second paragraph."]);
});
