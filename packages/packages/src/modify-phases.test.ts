import assert from "node:assert/strict";
import { test } from "node:test";
import { modifyPhases } from "./modify-phases.ts";
import { PackageError } from "./package-error.ts";

const phases = [
  { name: "unpack", body: "u" },
  { name: "build", body: "b" },
  { name: "install", body: "i" },
];
const names = (list: readonly { name: string }[]) => list.map((phase) => phase.name);

test("phases are added before and after others, replaced and removed, in edit order", () => {
  const result = modifyPhases(phases, [
    { add: "patch", after: "unpack", body: "p" },
    { add: "bootstrap", before: "unpack", body: "x" },
    { replace: "build", body: "B" },
    { remove: "install" },
  ]);
  assert.deepEqual(names(result), ["bootstrap", "unpack", "patch", "build"]);
  assert.equal(result.find((phase) => phase.name === "build")?.body, "B");
  assert.deepEqual(names(phases), ["unpack", "build", "install"], "the input is not changed");
});

test("an edit naming a missing phase, or adding an existing one, throws", () => {
  assert.throws(() => modifyPhases(phases, [{ remove: "chek" }]), PackageError);
  assert.throws(
    () => modifyPhases(phases, [{ add: "x", after: "nope", body: "" }]),
    /no phase named "nope"/,
  );
  assert.throws(
    () => modifyPhases(phases, [{ add: "build", after: "unpack", body: "" }]),
    /already exists/,
  );
});
