import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { KilnError } from "./kiln-error.ts";
import { readNarFrames } from "./read-nar-frames.ts";
import { FrameReader } from "./worker-protocol-framing.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/nar.json", import.meta.url), "utf8"),
) as Array<{
  id: string;
  nar?: string;
}>;
const nars = vectors
  .filter((v) => v.nar)
  .map((v) => ({ id: v.id, bytes: Buffer.from(v.nar as string, "base64") }));

async function collect(reader: FrameReader): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readNarFrames(reader)) chunks.push(chunk.slice());
  return Buffer.concat(chunks);
}

test("takes exactly one NAR off the stream and leaves what follows", async () => {
  assert.ok(nars.length >= 10);
  for (const { id, bytes } of nars) {
    const reader = new FrameReader();
    reader.push(bytes);
    reader.push(Buffer.from("after---"));
    reader.end();
    assert.deepEqual(await collect(reader), bytes, id);
    assert.equal(Buffer.from(await reader.bytes(8)).toString(), "after---", id);
  }
});

test("chunking of the input does not matter", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...nars),
      fc.integer({ min: 1, max: 50 }),
      async ({ bytes }, size) => {
        const reader = new FrameReader();
        for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
        reader.end();
        assert.deepEqual(await collect(reader), bytes);
      },
    ),
    { numRuns: 60 },
  );
});

test("truncated and mutated NARs give a typed error, never a hang or another exception", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...nars),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      async ({ bytes }, position, value, truncate) => {
        const at = position % bytes.length;
        const input = truncate ? bytes.subarray(0, at) : Buffer.from(bytes);
        if (!truncate) input[at] = value;
        const reader = new FrameReader({ maxStringLength: 1 << 20 });
        reader.push(input);
        reader.end();
        try {
          await collect(reader);
        } catch (error) {
          assert.ok(error instanceof KilnError, String(error));
        }
      },
    ),
    { numRuns: 300 },
  );
});
