import assert from "node:assert/strict";
import { test } from "node:test";
import type { Derivation } from "@kiln/formats/derivation";
import type { BuildPlan, PlannedBuild } from "./build-plan.ts";
import { substituteMissing } from "./substitute-missing.ts";

function build(
  drvPath: string,
  outputs: string[],
  dependsOn: string[],
  requested = false,
): PlannedBuild {
  const derivation = {
    outputs: new Map(
      outputs.map((path, i) => [i === 0 ? "out" : `o${i}`, { path, hashAlgo: "", hash: "" }]),
    ),
  } as unknown as Derivation;
  return { drvPath, derivation, dependsOn, requested, check: false };
}

// top -> mid -> leaf, and top -> other
const plan: BuildPlan = {
  builds: [
    build("leaf.drv", ["/s/leaf"], []),
    build("other.drv", ["/s/other"], []),
    build("mid.drv", ["/s/mid", "/s/mid-dev"], ["leaf.drv"]),
    build("top.drv", ["/s/top"], ["mid.drv", "other.drv"], true),
  ],
  valid: [],
  missingSources: [{ path: "/s/src", drvPath: "top.drv" }],
};

function fakeSubstituter(offered: string[]) {
  const queried: string[][] = [];
  const substituted: string[][] = [];
  return {
    queried,
    substituted,
    async querySubstitutable(paths: readonly string[]) {
      queried.push([...paths]);
      return new Set(paths.filter((path) => offered.includes(path)));
    },
    async substitute(paths: readonly string[]) {
      substituted.push([...paths]);
    },
  };
}

test("a substitutable requested derivation is fetched and its inputs are not looked at", async () => {
  const substituter = fakeSubstituter(["/s/top", "/s/src"]);
  const asked = await substituteMissing(plan, substituter, () => false);
  assert.deepEqual(asked.sort(), ["/s/src", "/s/top"]);
  assert.deepEqual(substituter.queried, [["/s/top"]]);
});

test("otherwise the walk goes down, and a derivation is fetched only when all its missing outputs are offered", async () => {
  const substituter = fakeSubstituter(["/s/mid", "/s/leaf", "/s/other"]);
  const asked = await substituteMissing(plan, substituter, () => false);
  // mid-dev is not offered, so mid is built and leaf (its input) is fetched.
  assert.deepEqual(asked.sort(), ["/s/leaf", "/s/other", "/s/src"]);
  const valid = await substituteMissing(
    plan,
    fakeSubstituter(["/s/mid"]),
    (path) => path === "/s/mid-dev",
  );
  assert.ok(valid.includes("/s/mid"));
});

test("nothing offered: nothing substituted", async () => {
  const substituter = fakeSubstituter([]);
  assert.deepEqual(
    await substituteMissing({ ...plan, missingSources: [] }, substituter, () => false),
    [],
  );
  assert.deepEqual(substituter.substituted, []);
});
