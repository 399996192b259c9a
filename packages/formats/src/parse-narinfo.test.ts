import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { formatHashNix32, toHex } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import { parseNarinfo } from "./parse-narinfo.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/narinfo.json", import.meta.url), "utf8"),
);
const narinfos = vectors.filter((v: { kind: string }) => v.kind === "narinfo");
const farm = JSON.parse(
  readFileSync(new URL("../test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];
const simple = narinfos.find((v: { text: string }) => v.text.includes("-simple\nURL"))
  .text as string;

test("every real Nix narinfo parses into the fields Nix wrote", () => {
  for (const vector of narinfos) {
    const narinfo = parseNarinfo(vector.text, { storeDir: "/nix/store" });
    const f = vector.fields;
    assert.equal(narinfo.storePath, f.StorePath);
    assert.equal(narinfo.urls.length, 1);
    const [group] = narinfo.urls;
    assert.equal(group.url, f.URL);
    assert.equal(group.compression, f.Compression);
    assert.equal(formatHashNix32(group.fileHash!), f.FileHash);
    assert.equal(group.fileSize, Number(f.FileSize));
    assert.equal(toHex(group.fileHash!.digest), vector.narFile.fileHashHex);
    assert.equal(formatHashNix32(narinfo.narHash), f.NarHash);
    assert.equal(narinfo.narSize, Number(f.NarSize));
    assert.deepEqual(narinfo.references, vector.references);
    assert.equal(narinfo.deriver, f.Deriver);
    assert.equal(narinfo.ca, f.CA);
    assert.deepEqual(narinfo.sigs, vector.signatures);
    assert.equal(narinfo.signature, undefined);
  }
});

test("the farm's Guix narinfo parses, FileSize after References included", () => {
  const narinfo = parseNarinfo(farm.narinfo, { storeDir: "/gnu/store" });
  assert.equal(narinfo.storePath, "/gnu/store/8kib1cirdv0qbmn9hdkjzjfx3n5nw1yw-sed-4.4");
  assert.deepEqual(narinfo.urls, [
    {
      url: "nar/gzip/8kib1cirdv0qbmn9hdkjzjfx3n5nw1yw-sed-4.4",
      compression: "gzip",
      fileSize: 218663,
    },
  ]);
  assert.equal(narinfo.narSize, 637360);
  assert.equal(narinfo.references.length, 3);
  assert.equal(narinfo.system, "x86_64-linux");
  assert.equal(narinfo.deriver, "pi8686q63rwr4md90vm3qxwhk2g2fvqa-sed-4.4.drv");
  assert.match(narinfo.signature ?? "", /^1;berlin\.guixsd\.org;KHNpZ25hdHVyZSAK/);
  assert.deepEqual(narinfo.sigs, []);
});

test("the store directory is taken from StorePath unless given, and then enforced", () => {
  assert.equal(parseNarinfo(farm.narinfo).storePath.startsWith("/gnu/store/"), true);
  assert.throws(
    () => parseNarinfo(farm.narinfo, { storeDir: "/nix/store" }),
    /not a store path in \/nix\/store/,
  );
});

test("Nix's lenient rules: defaults, unknown keys, unknown-deriver, empty CA", () => {
  const noCompression = simple.replace("Compression: xz\n", "");
  assert.equal(parseNarinfo(noCompression).urls[0].compression, "bzip2");
  assert.equal(
    parseNarinfo(simple.replace("Compression: xz", "Compression: ")).urls[0].compression,
    "bzip2",
  );
  const extra = simple.replace("NarSize", "X-Future: anything: at all\nNarSize");
  assert.deepEqual(parseNarinfo(extra), parseNarinfo(simple));
  assert.equal(
    parseNarinfo(simple.replace(/Deriver: .*/, "Deriver: unknown-deriver")).deriver,
    undefined,
  );
  assert.equal(parseNarinfo(`${simple}CA: \n`).ca, undefined);
  const hex = simple.replace(
    /NarHash: .*/,
    `NarHash: sha256:${toHex(parseNarinfo(simple).narHash.digest)}`,
  );
  assert.deepEqual(parseNarinfo(hex).narHash, parseNarinfo(simple).narHash);
});

test("Guix's repeated groups: each line belongs to the URL above it", () => {
  const text = [
    "StorePath: /gnu/store/8kib1cirdv0qbmn9hdkjzjfx3n5nw1yw-sed-4.4",
    "URL: nar/gzip/8kib1cirdv0qbmn9hdkjzjfx3n5nw1yw-sed-4.4",
    "Compression: gzip",
    "URL: nar/zstd/8kib1cirdv0qbmn9hdkjzjfx3n5nw1yw-sed-4.4",
    "Compression: zstd",
    "FileSize: 90",
    "NarHash: sha256:18v7dgny1xna7f53mbkj8bk4y2f00l5rjk2k6hj166kjv964lz7r",
    "NarSize: 637360",
    "References: ",
    "",
  ].join("\n");
  const narinfo = parseNarinfo(text);
  assert.deepEqual(
    narinfo.urls.map((u) => [u.compression, u.fileSize]),
    [
      ["gzip", undefined],
      ["zstd", 90],
    ],
  );
  assert.deepEqual(narinfo.references, []);
});

test("rejects broken narinfos with a FormatError naming the problem", () => {
  const drop = (key: string) => simple.replace(new RegExp(`${key}: .*\\n`), "");
  const set = (key: string, value: string) =>
    simple.replace(new RegExp(`${key}: .*`), `${key}: ${value}`);
  const cases: [string, RegExp][] = [
    [drop("StorePath"), /missing StorePath/],
    [drop("URL"), /missing URL/],
    [drop("NarHash"), /missing NarHash/],
    [drop("NarSize"), /missing NarSize/],
    [set("NarSize", "0"), /NarSize must not be 0/],
    [set("NarSize", "12a"), /NarSize "12a" is not a non-negative integer/],
    [set("FileSize", "-1"), /FileSize "-1" is not/],
    [set("NarSize", "99999999999999999999"), /NarSize .* is not/],
    [set("NarHash", "sha256:xyz"), /NarHash "sha256:xyz" is not a valid hash/],
    [
      set("FileHash", "04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"),
      /FileHash .* not a valid hash/,
    ],
    [set("StorePath", "/nix/store/short-simple"), /StorePath .* is not a store path/],
    [set("StorePath", "nix"), /not an absolute store path/],
    [set("References", "not-a-path"), /reference "not-a-path" is not a store path base name/],
    [set("Deriver", "x.drv"), /Deriver "x.drv"/],
    [set("URL", ""), /empty URL/],
    [`${simple}CA: sha256:abc\n`, /CA "sha256:abc" is not/],
    [`${simple}CA: fixed:sha256:abc\n`, /CA .* not a valid hash/],
    [
      `${simple}StorePath: /nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple\n`,
      /duplicate StorePath/,
    ],
    [`${simple}References: \n`, /duplicate References/],
    [`${simple}Signature: 1;a;b\nSignature: 1;a;b\n`, /duplicate Signature/],
    [`${simple}Compression: xz\n`, /two Compression lines for one URL/],
    [`Compression: xz\n${simple}`, /two Compression lines for one URL/],
    [simple.trimEnd(), /does not end with a newline/],
    [simple.replace("NarSize: ", "NarSize:"), /line 7 is not of the form "Key: value"/],
    [`${simple}\n`, /is not of the form/],
    [`${simple}a b: c\n`, /is not of the form/],
    ["", /missing StorePath/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseNarinfo(text),
      (error: unknown) => {
        assert.ok(error instanceof FormatError, `${error}`);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

test("random and mutated texts only ever give a narinfo or a FormatError", () => {
  const texts = [
    simple,
    farm.narinfo,
    ...narinfos.slice(0, 6).map((v: { text: string }) => v.text),
  ];
  const lines = texts.flatMap((t) => t.split("\n"));
  const mutation = fc.oneof(
    fc
      .tuple(fc.constantFrom(...texts), fc.nat(), fc.string({ maxLength: 4 }))
      .map(([t, at, s]) => t.slice(0, at % t.length) + s + t.slice((at % t.length) + 1)),
    fc.shuffledSubarray(lines).map((ls) => `${ls.join("\n")}\n`),
    fc.string({ maxLength: 200 }),
  );
  fc.assert(
    fc.property(mutation, (text) => {
      try {
        parseNarinfo(text);
      } catch (error) {
        assert.ok(error instanceof FormatError, String(error));
      }
    }),
    { numRuns: 300 },
  );
});
