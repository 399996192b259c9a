import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseHash } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import { narinfoFingerprint } from "./narinfo-fingerprint.ts";
import { parseNarinfo } from "./parse-narinfo.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/narinfo.json", import.meta.url), "utf8"),
);
const narinfos = vectors.filter((v: { kind: string }) => v.kind === "narinfo");
const pairs = vectors.filter((v: { kind: string }) => v.kind === "fingerprint-signature");

test("every real narinfo gives Nix's fingerprint", () => {
  assert.equal(narinfos.length, 52);
  for (const vector of narinfos) {
    const narinfo = parseNarinfo(vector.text, { storeDir: "/nix/store" });
    assert.equal(
      narinfoFingerprint(narinfo, { storeDir: "/nix/store" }),
      vector.fingerprint,
      vector.path,
    );
  }
});

test("full reference paths are sorted; the line ends in ';' without references", () => {
  for (const pair of pairs) {
    const [, storePath, narHash, narSize, refs] = pair.fingerprint.split(";");
    const references = refs === "" ? [] : refs.split(",").reverse();
    const info = { storePath, narHash: parseHash(narHash), narSize: Number(narSize), references };
    assert.equal(narinfoFingerprint(info), pair.fingerprint);
  }
});

test("refuses what Nix cannot fingerprint", () => {
  const base = {
    storePath: "/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple",
    narHash: parseHash("sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw"),
    narSize: 120,
    references: [] as string[],
  };
  const cases: [typeof base, RegExp][] = [
    [
      { ...base, narHash: parseHash("sha1:0000000000000000000000000000000000000000") },
      /not SHA-256/,
    ],
    [{ ...base, narSize: 0 }, /size is not known/],
    [{ ...base, references: ["94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"] }, /not a full store path/],
  ];
  for (const [info, message] of cases) {
    assert.throws(
      () => narinfoFingerprint(info),
      (e: unknown) => e instanceof FormatError && message.test(e.message),
    );
  }
});
