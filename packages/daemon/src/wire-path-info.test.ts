import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeNix32 } from "@kiln/formats/nix32";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { PathInfo } from "@kiln/store/path-info";
import fc from "fast-check";
import type { WireFormat } from "./wire-format.ts";
import { readPathInfo, writePathInfo } from "./wire-path-info.ts";

const nix32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => encodeNix32(bytes));
const storePath = fc
  .stringMatching(/^[0-9abcdfghijklmnpqrsvwxyz]{32}-[a-z][a-z0-9.-]{0,20}$/)
  .map((base) => `/nix/store/${base}`);
const pathInfo: fc.Arbitrary<PathInfo> = fc
  .record({
    path: storePath,
    narHash: nix32.map((digest) => `sha256:${digest}`),
    narSize: fc.nat(),
    references: fc.uniqueArray(storePath, { maxLength: 4 }).map((refs) => refs.sort()),
    deriver: fc.option(storePath, { nil: undefined }),
    registrationTime: fc.nat(),
    ultimate: fc.boolean(),
    sigs: fc.array(fc.stringMatching(/^[a-z]+-1:[A-Za-z0-9+/]{86}==$/), { maxLength: 2 }),
    ca: fc.option(
      nix32.map((digest) => `fixed:r:sha256:${digest}`),
      { nil: undefined },
    ),
  })
  .map((info) => {
    // Optional fields are absent rather than undefined, as readPathInfo returns them.
    const copy: Record<string, unknown> = { ...info };
    for (const key of ["deriver", "ca"]) if (copy[key] === undefined) delete copy[key];
    return copy as unknown as PathInfo;
  });

async function roundTrip(info: PathInfo, format: WireFormat, includePath: boolean) {
  const out = new FrameWriter();
  writePathInfo(out, info, format, { includePath });
  const reader = new FrameReader();
  reader.push(out.take());
  reader.end();
  const read = await readPathInfo(reader, format, includePath ? {} : { path: info.path });
  assert.equal(reader.buffered, 0, "nothing left over");
  return read;
}

test("path info survives the wire in Nix's form (1.16+), with or without the path", async () => {
  await fc.assert(
    fc.asyncProperty(pathInfo, fc.boolean(), async (info, includePath) => {
      assert.deepEqual(await roundTrip(info, { minor: 34, dialect: "nix" }, includePath), info);
    }),
    { numRuns: 100 },
  );
});

test("Guix's short form and Nix before 1.16 carry neither signatures nor content address", async () => {
  await fc.assert(
    fc.asyncProperty(pathInfo, async (info) => {
      for (const format of [
        { minor: 34, dialect: "guix" },
        { minor: 15, dialect: "nix" },
      ] as const) {
        const read = await roundTrip(info, format, false);
        assert.deepEqual(read.sigs, []);
        assert.equal(read.ultimate, false);
        assert.equal(read.ca, undefined);
        assert.equal(read.narHash, info.narHash);
        assert.deepEqual(read.references, info.references);
      }
    }),
    { numRuns: 50 },
  );
});

test("the NAR hash goes out as bare base16, as Nix sends it", () => {
  const out = new FrameWriter();
  writePathInfo(
    out,
    {
      path: "/nix/store/6h9lcbx523532ax1c5g2351w9bm8ykhy-f.txt",
      narHash: "sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
      narSize: 120,
      references: [],
      registrationTime: 1,
      ultimate: false,
      sigs: [],
    },
    { minor: 34, dialect: "nix" },
  );
  const bytes = Buffer.from(out.take());
  // The hex of that hash, as captured from nix-daemon 2.8 answering AddToStore.
  assert.ok(bytes.includes("1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13"));
});
