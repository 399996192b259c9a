import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { test } from "node:test";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { requirePeer } from "@kiln/testkit";
import { checkCompressors, createCompressor, parseCompression } from "./compression.ts";
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

test("parses lzip levels 1–9; refuses unknown methods and out-of-range levels", () => {
  assert.deepEqual(parseCompression("lzip:9"), { method: "lzip", level: 9 });
  assert.deepEqual(parseCompression("lzip"), { method: "lzip", level: 3 });
  assert.throws(() => parseCompression("lzip:10"), /out of range 1–9/);
  assert.throws(() => parseCompression("xz"), /unknown compression method "xz"/);
  assert.throws(() => parseCompression("gzip:10"), /out of range 1–9/);
  assert.throws(() => parseCompression("zstd:20"), /out of range 1–19/);
  assert.throws(() => parseCompression("gzip:0"), /out of range/);
  assert.throws(() => parseCompression("gzip:"), /not METHOD\[:LEVEL\]/);
  assert.throws(() => parseCompression(""), /not METHOD\[:LEVEL\]/);
});

test("lzip without its program is refused at start-up with a hint", () => {
  const programs = { lzip: "kiln-no-such-lzip" };
  assert.throws(
    () => checkCompressors([parseCompression("zstd"), parseCompression("lzip:6")], programs),
    (error: unknown) =>
      error instanceof PublishError &&
      error.message ===
        "--compression lzip needs the kiln-no-such-lzip program, which is not installed" &&
      /apt-get install lzip/.test(error.hint ?? ""),
  );
  // Nothing to check without lzip.
  checkCompressors([parseCompression("zstd")], programs);
});

test("the lzip compressor round-trips through lzip -d", async (t) => {
  if (!requirePeer(t, "lzip")) return;
  const data = Buffer.from("nar bytes ".repeat(100_000));
  const lz = await buffer(
    Readable.from([data]).pipe(createCompressor(parseCompression("lzip:6"))!),
  );
  assert.equal(lz.subarray(0, 4).toString("latin1"), "LZIP");
  assert.ok(lz.length < data.length / 10);
  assert.deepEqual(execFileSync("lzip", ["-dc"], { input: lz, maxBuffer: 1 << 24 }), data);
});

test("a compressor program that fails fails the stream; it never ends short", async () => {
  // `false` reads nothing and exits 1: what lzip does on a full disk, say.
  const failing = createCompressor(parseCompression("lzip"), { lzip: "false" })!;
  await assert.rejects(buffer(Readable.from([Buffer.alloc(1 << 20)]).pipe(failing)), {
    code: "ERR_PUBLISH_COMPRESSOR",
    message: /^false failed: exit 1$/,
  });
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
