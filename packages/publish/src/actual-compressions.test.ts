import assert from "node:assert/strict";
import { test } from "node:test";
import { actualCompressions, isCompressedFileName } from "./actual-compressions.ts";
import { parseCompression } from "./compression.ts";

const zstd = [parseCompression("zstd:6"), parseCompression("gzip")];

test("items named like compressed files are offered only uncompressed, as guix publish does", () => {
  for (const name of ["hello-2.12.tar.gz", "x.tar.xz", "y.tar.bz2", "z.lz", "a.zip", "b.tgz"]) {
    assert.deepEqual(actualCompressions(`/gnu/store/${"a".repeat(32)}-${name}`, zstd), [
      { method: "none", level: 0 },
    ]);
  }
});

test("other items keep the requested compressions; the extension is the name's, not a directory's", () => {
  for (const name of ["hello-2.12", "gzip-1.12", "python-3.10", "hello.gz-doc", "foo.tar"]) {
    assert.equal(actualCompressions(`/gnu/store/${"a".repeat(32)}-${name}`, zstd), zstd);
  }
  assert.equal(isCompressedFileName("/tmp.gz/store/abc-hello"), false);
});
