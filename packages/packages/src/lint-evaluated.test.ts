import assert from "node:assert/strict";
import { test } from "node:test";
import type { EvaluatedPackage } from "./evaluate-channel.ts";
import { lintEvaluated, sandboxCheckers } from "./lint-evaluated.ts";

const evaluated = (
  name: string,
  module: string,
  warnings: EvaluatedPackage["warnings"] = [],
): EvaluatedPackage => ({
  name,
  version: "1.0",
  outputs: ["out"],
  systems: ["x86_64-linux"],
  dependencies: [],
  licenses: ["CC0-1.0"],
  synopsis: "S",
  description: "D.",
  module,
  location: module,
  warnings,
});

test("duplicates across modules are found here; warnings follow the checkers' order", () => {
  const first = evaluated("twin", "modules/a.ts", [
    { checker: "synopsis", message: "s1" },
    { checker: "license", message: "l1" },
  ]);
  const second = evaluated("twin", "modules/b.ts");
  const single = evaluated("single", "modules/b.ts");
  const all = [first, second, single];
  const checkers = ["license", "duplicates", "synopsis"];
  assert.deepEqual(sandboxCheckers(checkers), ["license", "synopsis"]);
  assert.deepEqual(
    lintEvaluated([first, single], { all, checkers }).map((w) => [
      w.location,
      w.checker,
      w.message,
    ]),
    [
      ["modules/a.ts", "license", "l1"],
      ["modules/a.ts", "duplicates", "twin@1.0 is defined 2 times"],
      ["modules/a.ts", "synopsis", "s1"],
    ],
  );
  assert.deepEqual(lintEvaluated([second], { all, checkers: ["synopsis"] }), []);
});
