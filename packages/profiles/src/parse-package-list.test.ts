import assert from "node:assert/strict";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import { parsePackageList } from "./parse-package-list.ts";

test("manifest files: text lines with comments, a JSON array, or { packages }", () => {
  const a = "/gnu/store/aaaa-a";
  const b = "/gnu/store/bbbb-b.drv:lib";
  assert.deepEqual(parsePackageList(`# tools\n${a}  # the editor\n\n  ${b}\n`), [a, b]);
  assert.deepEqual(parsePackageList(JSON.stringify([a, b])), [a, b]);
  assert.deepEqual(parsePackageList(JSON.stringify({ packages: [a] })), [a]);
  assert.deepEqual(parsePackageList(""), []);
  for (const bad of ["[1, 2]", '{"packages": "x"}', "[unclosed"]) {
    assert.throws(
      () => parsePackageList(bad),
      (e: KilnError) => e.code === "ERR_PROFILE_BAD_MANIFEST_FILE",
    );
  }
});
