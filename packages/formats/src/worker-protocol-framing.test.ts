import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { KilnError } from "./kiln-error.ts";
import { FrameReader, FrameWriter } from "./worker-protocol-framing.ts";

test("strings are length-prefixed and zero-padded to 8 bytes, as in NAR", () => {
  const frame = new FrameWriter().string("hello\n").take();
  assert.deepEqual(
    Buffer.from(frame).toString("hex"),
    `0600000000000000${Buffer.from("hello\n").toString("hex")}0000`,
  );
  assert.equal(new FrameWriter().string("").take().length, 8);
  assert.equal(new FrameWriter().string("12345678").take().length, 16);
});

test("u64 is little-endian and rejects values that do not fit", () => {
  assert.equal(
    Buffer.from(new FrameWriter().u64(0x0102).take()).toString("hex"),
    "0201000000000000",
  );
  assert.throws(() => new FrameWriter().u64(-1), KilnError);
  assert.throws(() => new FrameWriter().u64(2 ** 60), KilnError);
});

test("values written come back in order, whatever the chunking", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.nat().map((n) => ({ n })),
          fc.string().map((s) => ({ s })),
          fc.array(fc.string()).map((l) => ({ l })),
        ),
      ),
      fc.integer({ min: 1, max: 13 }),
      async (values, chunkSize) => {
        const writer = new FrameWriter();
        for (const v of values) {
          if ("n" in v) writer.u64(v.n);
          else if ("s" in v) writer.string(v.s);
          else writer.strings(v.l);
        }
        const bytes = writer.take();
        const reader = new FrameReader();
        for (let i = 0; i < bytes.length; i += chunkSize)
          reader.push(bytes.subarray(i, i + chunkSize));
        reader.end();
        for (const v of values) {
          if ("n" in v) assert.equal(await reader.u64(), v.n);
          else if ("s" in v) assert.equal(await reader.string(), v.s);
          else assert.deepEqual(await reader.strings(), v.l);
        }
        assert.equal(reader.buffered, 0);
      },
    ),
    { numRuns: 100 },
  );
});

test("a read waits for data that arrives later", async () => {
  const reader = new FrameReader();
  const pending = reader.string();
  const frame = new FrameWriter().string("later").take();
  reader.push(frame.subarray(0, 3));
  setImmediate(() => reader.push(frame.subarray(3)));
  assert.equal(await pending, "later");
});

test("truncated input, absurd lengths and bad padding are protocol errors", async () => {
  const truncated = new FrameReader();
  truncated.push(new FrameWriter().string("abcdef").take().subarray(0, 10));
  truncated.end();
  await assert.rejects(truncated.string(), /input ended/);

  const huge = new FrameReader({ maxStringLength: 1024 });
  huge.push(new FrameWriter().u64(1_000_000).take());
  await assert.rejects(huge.string(), /exceeds the limit/);

  const padded = new FrameReader();
  const bytes = new FrameWriter().string("abc").take();
  bytes[bytes.length - 1] = 1;
  padded.push(bytes);
  await assert.rejects(padded.string(), /non-zero padding/);

  const list = new FrameReader({ maxListLength: 5 });
  list.push(new FrameWriter().u64(6).take());
  await assert.rejects(list.strings(), /exceeds the limit/);

  const big = new FrameReader();
  big.push(new Uint8Array(8).fill(0xff));
  await assert.rejects(big.u64(), /too large/);
});

test("random bytes only ever produce values or protocol errors", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
      const reader = new FrameReader({ maxStringLength: 4096 });
      reader.push(bytes);
      reader.end();
      try {
        for (;;) await reader.strings();
      } catch (error) {
        assert.ok(error instanceof KilnError, String(error));
      }
    }),
  );
});
