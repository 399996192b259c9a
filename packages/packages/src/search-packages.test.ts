import assert from "node:assert/strict";
import { test } from "node:test";
import { licenses } from "./licenses.ts";
import type { Package } from "./package.ts";
import { searchPackages } from "./search-packages.ts";

const make = (name: string, synopsis: string, description: string, version = "1"): Package => ({
  name,
  version,
  buildSystem: "trivial",
  synopsis,
  description,
  license: licenses.cc0,
});
const packages = [
  make("viewer", "Look at images", "Shows pictures of a csv chart."),
  make("csv", "Read tables", "Reads tables."),
  make("plot", "Draw csv plots", "Draws plots."),
  make("csv", "Read tables", "Reads tables.", "2"),
];

test("matches in the name rank above the synopsis, above the description; newer versions first", () => {
  const results = searchPackages(packages, ["csv"]);
  assert.deepEqual(
    results.map((result) => `${result.package.name}@${result.package.version}:${result.relevance}`),
    ["csv@2:4", "csv@1:4", "plot@1:3", "viewer@1:2"],
  );
});

test("every regexp must match; they are case-insensitive; invalid ones throw", () => {
  assert.deepEqual(
    searchPackages(packages, ["CSV", "draw"]).map((result) => result.package.name),
    ["plot"],
  );
  assert.deepEqual(searchPackages(packages, []), []);
  assert.throws(() => searchPackages(packages, ["("]), /invalid regular expression/);
});
