import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { FormatError } from "./kiln-error.ts";
import type { Narinfo } from "./narinfo.ts";
import { encodeNix32 } from "./nix32.ts";
import { parseNarinfo } from "./parse-narinfo.ts";
import { printNarinfo } from "./print-narinfo.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/narinfo.json", import.meta.url), "utf8"),
);
const narinfos = vectors.filter((v: { kind: string }) => v.kind === "narinfo");
const farm = JSON.parse(
  readFileSync(new URL("../test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];

test("every real Nix narinfo prints back byte for byte", () => {
  for (const vector of narinfos) {
    assert.equal(
      printNarinfo(parseNarinfo(vector.text), { flavour: "nix" }),
      vector.text,
      vector.path,
    );
  }
});

test("empty references keep Nix's trailing space", () => {
  const vector = narinfos.find((v: { references: string[] }) => v.references.length === 0);
  assert.match(printNarinfo(parseNarinfo(vector.text), { flavour: "nix" }), /\nReferences: \n/);
});

test("Nix flavour sorts references and signatures as Nix's sets do", () => {
  const narinfo = parseNarinfo(narinfos[0].text);
  const shuffled = {
    ...narinfo,
    references: [...narinfo.references].reverse(),
    sigs: ["b:2", "a:1", "b:2"],
  };
  const text = printNarinfo(shuffled, { flavour: "nix" });
  assert.match(text, new RegExp(`References: ${narinfo.references.join(" ")}\n`));
  assert.match(text, /Sig: a:1\nSig: b:2\n(CA|$)/);
});

test("the farm's 2017 narinfo prints back byte for byte in the guix-legacy layout", () => {
  assert.equal(printNarinfo(parseNarinfo(farm.narinfo), { flavour: "guix-legacy" }), farm.narinfo);
});

test("Guix flavour follows narinfo-string: groups, NarHash, References, System, Deriver", () => {
  const base = parseNarinfo(farm.narinfo);
  const narinfo: Narinfo = {
    ...base,
    urls: [
      { url: "nar/gzip/x", compression: "gzip", fileSize: 100 },
      { url: "nar/zstd/x", compression: "zstd", fileSize: 90 },
    ],
    sigs: ["kiln-1:AAAA"],
  };
  const text = printNarinfo(narinfo, { flavour: "guix" });
  const keys = text
    .trimEnd()
    .split("\n")
    .map((line) => line.split(":")[0]);
  assert.deepEqual(keys, [
    "StorePath",
    "URL",
    "Compression",
    "FileSize",
    "URL",
    "Compression",
    "FileSize",
    "NarHash",
    "NarSize",
    "References",
    "System",
    "Deriver",
    "Sig",
    "Signature",
  ]);
  assert.deepEqual(parseNarinfo(text), narinfo);
});

test("a single-URL layout refuses several URLs", () => {
  const narinfo = parseNarinfo(farm.narinfo);
  const two = { ...narinfo, urls: [...narinfo.urls, ...narinfo.urls] };
  for (const flavour of ["nix", "guix-legacy"] as const) {
    assert.throws(
      () => printNarinfo(two, { flavour }),
      (e: unknown) => e instanceof FormatError && /exactly one URL/.test(e.message),
    );
  }
});

const baseName = fc
  .tuple(
    fc.uint8Array({ minLength: 20, maxLength: 20 }),
    fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/),
  )
  .map(([hash, name]) => `${encodeNix32(hash)}-${name}`);

const narinfoArbitrary = (multiUrl: boolean): fc.Arbitrary<Narinfo> =>
  fc.record(
    {
      storePath: baseName.map((b) => `/gnu/store/${b}`),
      urls: fc.array(
        fc.record(
          {
            url: fc.stringMatching(/^nar\/[a-z0-9.]{1,20}$/),
            compression: fc.constantFrom("xz", "gzip", "zstd", "none", "bzip2"),
            fileSize: fc.nat(),
          },
          { requiredKeys: ["url", "compression"], noNullPrototype: true },
        ),
        { minLength: 1, maxLength: multiUrl ? 3 : 1 },
      ),
      narHash: fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((digest) => ({ algorithm: "sha256" as const, digest })),
      narSize: fc.integer({ min: 1, max: 2 ** 40 }),
      references: fc.uniqueArray(baseName, { maxLength: 3 }).map((refs) => refs.sort()),
      deriver: baseName.map((b) => `${b}.drv`),
      system: fc.constantFrom("x86_64-linux", "aarch64-linux"),
      sigs: fc
        .uniqueArray(fc.stringMatching(/^[a-z]{1,5}-1:[A-Za-z0-9+/]{4}$/), { maxLength: 2 })
        .map((s) => s.sort()),
      signature: fc.constant("1;host;AAAA"),
      ca: fc.constant("fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"),
    },
    {
      requiredKeys: ["storePath", "urls", "narHash", "narSize", "references", "sigs"],
      noNullPrototype: true,
    },
  );

test("parse inverts print for every flavour", () => {
  fc.assert(
    fc.property(narinfoArbitrary(true), (narinfo) => {
      assert.deepEqual(parseNarinfo(printNarinfo(narinfo, { flavour: "guix" })), narinfo);
    }),
    { numRuns: 100 },
  );
  fc.assert(
    fc.property(
      narinfoArbitrary(false),
      fc.constantFrom("nix", "guix-legacy") as fc.Arbitrary<"nix" | "guix-legacy">,
      (narinfo, flavour) => {
        assert.deepEqual(parseNarinfo(printNarinfo(narinfo, { flavour })), narinfo);
      },
    ),
    { numRuns: 100 },
  );
});
