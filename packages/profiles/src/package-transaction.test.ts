import assert from "node:assert/strict";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import { applyPackageTransaction, parseRemovalPattern } from "./package-transaction.ts";
import type { ManifestEntry } from "./profile-manifest.ts";

const entry = (name: string, version: string, output = "out"): ManifestEntry => ({
  name,
  version,
  output,
  item: `/gnu/store/${name.padEnd(32, "0")}-${name}-${version}${output === "out" ? "" : `-${output}`}`,
  searchPaths: [],
});

test("removal patterns: NAME[@VERSION][:OUTPUT], output out by default", () => {
  assert.deepEqual(parseRemovalPattern("hello"), { name: "hello", output: "out" });
  assert.deepEqual(parseRemovalPattern("guile@3.0.9:debug"), {
    name: "guile",
    version: "3.0.9",
    output: "debug",
  });
  assert.deepEqual(parseRemovalPattern("gcc:lib"), { name: "gcc", output: "lib" });
  assert.throws(
    () => parseRemovalPattern(":out"),
    (e: KilnError) => e.code === "ERR_PROFILE_BAD_SPEC",
  );
});

test("installing replaces the same name and output; removing must match", () => {
  const start = {
    entries: [entry("hello", "2.10"), entry("gcc", "12", "lib"), entry("gcc", "12")],
  };
  const upgraded = applyPackageTransaction(start, { install: [entry("hello", "2.12")] });
  assert.deepEqual(
    upgraded.entries.map((e) => `${e.name}@${e.version}:${e.output}`),
    ["gcc@12:lib", "gcc@12:out", "hello@2.12:out"],
  );
  const removed = applyPackageTransaction(upgraded, { remove: [parseRemovalPattern("gcc")] });
  assert.deepEqual(
    removed.entries.map((e) => `${e.name}:${e.output}`),
    ["gcc:lib", "hello:out"],
  );
  assert.throws(
    () => applyPackageTransaction(removed, { remove: [parseRemovalPattern("gcc@11:lib")] }),
    (e: KilnError) =>
      e.code === "ERR_PROFILE_PACKAGE_NOT_FOUND" && /'gcc@11:lib' not found/.test(e.message),
  );
  assert.deepEqual(
    applyPackageTransaction(removed, { remove: [parseRemovalPattern("gcc@12:lib")] }).entries,
    [entry("hello", "2.12")],
  );
});
