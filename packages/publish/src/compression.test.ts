import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { createCompressor, parseCompression } from "./compression.ts";
import { PublishError } from "./publish-error.ts";

test("parses METHOD[:LEVEL] as guix publish does", () => {
  assert.deepEqual(parseCompression("zstd:6"), { method: "zstd", level: 6 });
  assert.deepEqual(parseCompression("zstd"), { method: "zstd", level: 3 });
  assert.deepEqual(parseCompression("gzip:9"), { method: "gzip", level: 9 });
  assert.deepEqual(parseCompression("none"), { method: "none", level: 0 });
  assert.deepEqual(parseCompression("7"), { method: "gzip", level: 7 });
  assert.deepEqual(parseCompression("0"), { method: "none", level: 0 });
  assert.deepEqual(parseCompression("zstd:19"), { method: "zstd", level: 19 });
});

test("refuses lzip with a hint, unknown methods and out-of-range levels", () => {
  assert.throws(
    () => parseCompression("lzip:3"),
    (error: unknown) =>
      error instanceof PublishError &&
      /lzip compression is not supported/.test(error.message) &&
      /zstd/.test(error.hint ?? ""),
  );
  assert.throws(() => parseCompression("xz"), /unknown compression method "xz"/);
  assert.throws(() => parseCompression("gzip:10"), /out of range 1–9/);
  assert.throws(() => parseCompression("zstd:20"), /out of range 1–19/);
  assert.throws(() => parseCompression("gzip:0"), /out of range/);
  assert.throws(() => parseCompression("gzip:"), /not METHOD\[:LEVEL\]/);
  assert.throws(() => parseCompression(""), /not METHOD\[:LEVEL\]/);
});

test("compressors round-trip through their decompressors", async () => {
  const data = Buffer.from("nar bytes ".repeat(10_000));
  const through = async (method: "gzip" | "zstd") =>
    buffer(Readable.from([data]).pipe(createCompressor(parseCompression(method))!));
  const gz = await through("gzip");
  const zst = await through("zstd");
  assert.ok(gz.length < data.length / 10 && zst.length < data.length / 10);
  assert.deepEqual(gunzipSync(gz), data);
  assert.deepEqual(zstdDecompressSync(zst), data);
  assert.equal(createCompressor(parseCompression("none")), undefined);
});
