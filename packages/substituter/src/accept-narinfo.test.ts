import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseTrustedKeys } from "@kiln/formats/verify-narinfo";
import fc from "fast-check";
import { fixtureCache, GUIX_NARINFO, TEST_KEYS } from "../test/fixtures.ts";
import { acceptNarinfo } from "./accept-narinfo.ts";

const DEPENDS = "/nix/store/0m8bkhmiir9515daq2hg3288z47cz2l2-depends";
const nixText = readFileSync(
  `${fixtureCache("zstd")}/0m8bkhmiir9515daq2hg3288z47cz2l2.narinfo`,
  "utf8",
);
const nix = { path: DEPENDS, storeDir: "/nix/store", trustedKeys: TEST_KEYS };
const guixPath = GUIX_NARINFO.narinfo.match(/^StorePath: (.*)$/m)![1];
const guix = {
  path: guixPath,
  storeDir: "/gnu/store",
  trustedKeys: parseTrustedKeys(GUIX_NARINFO.publicKey),
};
const reason = (verdict: ReturnType<typeof acceptNarinfo>) =>
  verdict.accepted ? "accepted" : verdict.reason;

test("a narinfo signed by real Nix with a trusted key is accepted", () => {
  const verdict = acceptNarinfo(nixText, nix);
  assert.equal(verdict.accepted, true);
  assert.deepEqual(verdict.accepted && verdict.validBy, ["Sig test-1"]);
  assert.deepEqual(verdict.accepted && verdict.narinfo.references.length, 3);
});

test("a narinfo for another path or another store directory is refused", () => {
  assert.equal(
    reason(
      acceptNarinfo(nixText, {
        ...nix,
        path: "/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple",
      }),
    ),
    `the narinfo is for ${DEPENDS}, not /nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple`,
  );
  assert.match(
    reason(acceptNarinfo(nixText, { ...nix, storeDir: "/gnu/store", path: DEPENDS })),
    /^malformed narinfo \(narinfo: StorePath ".*" is not a store path in \/gnu\/store\)$/,
  );
});

test("a NarHash other than SHA-256 is refused before signatures are looked at", () => {
  const sha1 = nixText.replace(/^NarHash: .*$/m, "NarHash: sha1:ah1dlrs4s3sdk19r0v0kjzbhaaywszqr");
  assert.equal(reason(acceptNarinfo(sha1, nix)), "its NarHash is sha1, not sha256");
});

test("the Guix-signed narinfo of a real build farm is accepted with the farm's key only", () => {
  const verdict = acceptNarinfo(GUIX_NARINFO.narinfo, guix);
  assert.deepEqual(verdict.accepted && verdict.validBy, ["Signature berlin.guixsd.org"]);
  assert.match(
    reason(acceptNarinfo(GUIX_NARINFO.narinfo, { ...guix, trustedKeys: TEST_KEYS })),
    /Signature berlin\.guixsd\.org: unauthorized key 8D156F29/,
  );
  const changed = GUIX_NARINFO.narinfo.replace("NarSize: 637360", "NarSize: 637361");
  assert.match(reason(acceptNarinfo(changed, guix)), /the narinfo text was changed after signing/);
  const appended = `${GUIX_NARINFO.narinfo}CA: fixed:r:sha256:18v7dgny1xna7f53mbkj8bk4y2f00l5rjk2k6hj166kjv964lz7r\n`;
  assert.equal(
    reason(acceptNarinfo(appended, guix)),
    "lines follow the Signature: line, which does not cover them",
  );
});

test("changing any character of the signed fields makes a Nix narinfo unacceptable", () => {
  const signed = nixText
    .split("\n")
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => /^(StorePath|NarHash|NarSize|References): /.test(line));
  fc.assert(
    fc.property(
      fc.constantFrom(...signed),
      fc.nat(),
      fc.constantFrom(..."0123456789abcdfghijklmnpqrsvwxyz-. :/"),
      ({ line, index }, at, replacement) => {
        const position = at % line.length;
        fc.pre(line[position] !== replacement);
        const lines = nixText.split("\n");
        lines[index] = line.slice(0, position) + replacement + line.slice(position + 1);
        const verdict = acceptNarinfo(lines.join("\n"), nix);
        assert.equal(verdict.accepted, false, lines[index]);
      },
    ),
    { numRuns: 150 },
  );
});
