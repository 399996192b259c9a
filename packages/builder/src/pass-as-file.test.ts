import assert from "node:assert/strict";
import { test } from "node:test";
import { passAsFile } from "./pass-as-file.ts";

test("attributes named in passAsFile become files, and <name>Path points at them", () => {
  const { env, files } = passAsFile(
    { passAsFile: " text\tother\n", text: "a large value\n", other: "", plain: "x" },
    "/tmp/kiln-build-a.drv-0",
  );
  // The name real Nix gives `text` (see test/build-tree-files-interop.test.ts).
  const text = ".attr-1lf969yddshzhld7sr1vbagr07bnygg99lgl6gk5kxcnp4z9wbcq";
  assert.equal(files.get(text), "a large value\n");
  assert.equal(files.size, 2);
  assert.equal(env.textPath, `/tmp/kiln-build-a.drv-0/${text}`);
  assert.match(env.otherPath, /^\/tmp\/kiln-build-a\.drv-0\/\.attr-[0-9a-z]{52}$/);
  assert.equal(env.text, undefined);
  assert.equal(env.other, undefined);
  assert.equal(env.plain, "x");
  assert.equal(env.passAsFile, " text\tother\n");
});

test("without passAsFile, or naming absent attributes, nothing changes", () => {
  assert.deepEqual(passAsFile({ a: "1" }, "/b"), { env: { a: "1" }, files: new Map() });
  assert.deepEqual(passAsFile({ passAsFile: "missing", a: "1" }, "/b"), {
    env: { passAsFile: "missing", a: "1" },
    files: new Map(),
  });
});
