import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import fc from "fast-check";
import { drainFramedStream, frameChunks, readFramedStream, unclosable } from "./framed-stream.ts";

async function framed(chunks: Uint8Array[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of frameChunks(chunks)) parts.push(part);
  return Buffer.concat(parts);
}

test("framed data round-trips and leaves what follows unread", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }),
      async (chunks) => {
        const r = new FrameReader();
        r.push(await framed(chunks));
        r.push(new FrameWriter().u64(77).take());
        r.end();
        const read: Uint8Array[] = [];
        for await (const chunk of readFramedStream(r)) read.push(chunk);
        assert.deepEqual(Buffer.concat(read), Buffer.concat(chunks));
        assert.equal(await r.u64(), 77);
      },
    ),
    { numRuns: 100 },
  );
});

test("frames are not padded: a 3-byte frame is 8 + 3 bytes", async () => {
  const bytes = await framed([new Uint8Array([1, 2, 3])]);
  assert.equal(bytes.length, 8 + 3 + 8);
});

test("a consumer that gives up half-way cannot close the stream; draining resyncs", async () => {
  const r = new FrameReader();
  r.push(await framed([new Uint8Array(10), new Uint8Array(20), new Uint8Array(30)]));
  r.push(new FrameWriter().u64(5).take());
  r.end();
  const stream = readFramedStream(r);
  await assert.rejects(async () => {
    for await (const _chunk of unclosable(stream)) throw new Error("consumer failed");
  });
  await drainFramedStream(stream);
  assert.equal(await r.u64(), 5);
});

test("more framed data than allowed is a protocol error", async () => {
  const r = new FrameReader();
  r.push(await framed([new Uint8Array(100)]));
  r.end();
  await assert.rejects(async () => {
    for await (const _chunk of readFramedStream(r, { maxTotal: 50 })) {
      // nothing
    }
  }, /exceeds the limit of 50 bytes/);
});
