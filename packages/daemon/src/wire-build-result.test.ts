import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import fc from "fast-check";
import {
  type KeyedWireBuildResult,
  readBuildResult,
  readKeyedBuildResults,
  writeBuildResult,
  writeKeyedBuildResults,
} from "./wire-build-result.ts";

const result = fc
  .record({
    path: fc.string({ maxLength: 80 }),
    status: fc.integer({ min: 0, max: 14 }),
    errorMsg: fc.string({ maxLength: 100 }),
    timesBuilt: fc.nat({ max: 10 }),
    isNonDeterministic: fc.boolean(),
    startTime: fc.nat(),
    stopTime: fc.nat(),
    builtOutputs: fc
      .dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.json(), { maxKeys: 3 })
      .map((d) => new Map(Object.entries(d).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
  })
  .map((r) => ({ ...r }));

function reader(out: FrameWriter): FrameReader {
  const r = new FrameReader();
  r.push(out.take());
  r.end();
  return r;
}

test("BuildPathsWithResults answers round-trip with every field", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(result, { maxLength: 4 }),
      async (results: KeyedWireBuildResult[]) => {
        const out = new FrameWriter();
        writeKeyedBuildResults(out, results);
        const r = reader(out);
        assert.deepEqual(await readKeyedBuildResults(r), results);
        assert.equal(r.buffered, 0);
      },
    ),
    { numRuns: 100 },
  );
});

test("BuildDerivation answers carry times from 1.29 and outputs from 1.28", async () => {
  await fc.assert(
    fc.asyncProperty(
      result,
      fc.integer({ min: 20, max: 34 }),
      async ({ path: _p, ...one }, minor) => {
        const format = { minor, dialect: "nix" as const };
        const out = new FrameWriter();
        writeBuildResult(out, one, format);
        const r = reader(out);
        const read = await readBuildResult(r, format);
        assert.equal(r.buffered, 0);
        assert.equal(read.status, one.status);
        assert.equal(read.errorMsg, one.errorMsg);
        assert.equal(read.startTime, minor >= 29 ? one.startTime : 0);
        assert.deepEqual(read.builtOutputs, minor >= 28 ? one.builtOutputs : new Map());
      },
    ),
    { numRuns: 100 },
  );
});
