import assert from "node:assert/strict";
import { test } from "node:test";
import type { KilnError } from "@kiln/formats/kiln-error";
import fc from "fast-check";
import { formatProfileManifest, parseProfileManifest } from "./profile-manifest.ts";
import { SEARCH_PATH_SPECS } from "./search-paths.ts";

test("property: a manifest reads back as written, and writes to the same bytes", () => {
  const entry = fc.record({
    name: fc.string({ minLength: 1 }),
    version: fc.string(),
    output: fc.constantFrom("out", "lib", "doc"),
    item: fc.string({ minLength: 1 }),
    searchPaths: fc.subarray([...SEARCH_PATH_SPECS]),
  });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 5 }), (entries) => {
      const text = formatProfileManifest({ entries });
      const parsed = parseProfileManifest(text);
      assert.deepEqual(parsed, JSON.parse(JSON.stringify({ entries })));
      assert.equal(formatProfileManifest(parsed), text);
    }),
    { numRuns: 100 },
  );
});

test("malformed manifests are errors naming the problem", () => {
  const cases: Array<[string, RegExp]> = [
    ["not json", /not valid JSON/],
    ["[]", /version undefined/],
    ['{"version": 2, "entries": []}', /version 2, expected 1/],
    ['{"version": 1}', /no entries list/],
    ['{"version": 1, "entries": [{"name": "x"}]}', /entry 0 has no string version/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseProfileManifest(text),
      (e: KilnError) => e.code === "ERR_PROFILE_BAD_MANIFEST" && message.test(e.message),
      text,
    );
  }
});
