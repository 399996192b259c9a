import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { readBasicDerivation, writeBasicDerivation } from "./wire-derivation.ts";

test("a derivation crosses the wire without its input derivations, maps sorted", async () => {
  const out = new FrameWriter();
  writeBasicDerivation(out, {
    outputs: new Map([
      [
        "out",
        { path: "/nix/store/7kninbr93ivkf0zgr9i67wzddihrpm0m-hello", hashAlgo: "", hash: "" },
      ],
      [
        "dev",
        { path: "/nix/store/8kninbr93ivkf0zgr9i67wzddihrpm0m-hello-dev", hashAlgo: "", hash: "" },
      ],
    ]),
    inputDrvs: new Map([["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv", ["out"]]]),
    inputSrcs: ["/nix/store/d0x4sjwksanirbaxlb05009gy5lvia3q-bb"],
    system: "x86_64-linux",
    builder: "/bin/sh",
    args: ["-c", "b", "a"],
    env: new Map([
      ["z", "1"],
      ["a", "2"],
    ]),
  });
  const r = new FrameReader();
  r.push(out.take());
  r.end();
  const drv = await readBasicDerivation(r);
  assert.equal(r.buffered, 0);
  assert.deepEqual([...drv.outputs.keys()], ["dev", "out"]);
  assert.deepEqual(
    [...drv.env],
    [
      ["a", "2"],
      ["z", "1"],
    ],
  );
  assert.deepEqual(drv.args, ["-c", "b", "a"]);
  assert.equal(drv.inputDrvs.size, 0);
  assert.deepEqual(drv.inputSrcs, ["/nix/store/d0x4sjwksanirbaxlb05009gy5lvia3q-bb"]);
});
