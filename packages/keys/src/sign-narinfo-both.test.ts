import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { guixKeyPairFromSeed } from "@kiln/formats/guix-key";
import { verifyGuixNarinfo } from "@kiln/formats/guix-signature";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { verifyNarinfo } from "@kiln/formats/verify-narinfo";
import fc from "fast-check";
import { signNarinfoBoth } from "./sign-narinfo-both.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../formats/test/fixtures/narinfo.json", import.meta.url), "utf8"),
) as { kind: string; text?: string }[];
/** Nix's own narinfos with their Sig: lines removed. */
const unsigned = vectors
  .filter((v) => v.kind === "narinfo")
  .map((v) => v.text!.replace(/^Sig: .*\n/gm, ""));
const key = guixKeyPairFromSeed(new Uint8Array(32).fill(11));
const nixKey = { kind: "nix", name: "farm-1", key: key.q } as const;
const guixKey = { kind: "guix", q: key.q } as const;

test("adds a Sig: line, then a Signature: line last, each valid on its own", () => {
  for (const text of unsigned) {
    const signed = signNarinfoBoth(text, key, { hostname: "farm.example", keyName: "farm-1" });
    assert.ok(signed.startsWith(text));
    const lines = signed.slice(text.length).split("\n");
    assert.match(lines[0], /^Sig: farm-1:[A-Za-z0-9+/]{86}==$/);
    assert.match(lines[1], /^Signature: 1;farm\.example;/);
    assert.equal(lines[2], "");
    // Nix's check: only the Sig: line, by name.
    assert.deepEqual(verifyNarinfo(signed.replace(/^Signature: .*\n/m, ""), [nixKey]).validBy, [
      "Sig farm-1",
    ]);
    // Guix's check: only the Signature: line, over the text with the Sig: line in it.
    assert.equal(verifyGuixNarinfo(signed, [key.q]).valid, true);
    assert.deepEqual(verifyNarinfo(signed, [nixKey, guixKey]).validBy, [
      "Sig farm-1",
      "Signature farm.example",
    ]);
  }
});

test("changing any byte of what is signed breaks the signatures", () => {
  const text = unsigned[0];
  const signed = signNarinfoBoth(text, key, { hostname: "farm", keyName: "farm-1" });
  const narHashAt = signed.indexOf("NarHash: sha256:") + 20;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: signed.indexOf("Sig:") - 1 }), (offset) => {
      const c = signed[offset];
      const replacement = c === "1" ? "2" : c === "\n" ? "\n" : "1";
      if (replacement === c) return;
      const tampered = signed.slice(0, offset) + replacement + signed.slice(offset + 1);
      assert.equal(verifyGuixNarinfo(tampered, [key.q]).valid, false);
    }),
    { numRuns: 80 },
  );
  const tampered = `${signed.slice(0, narHashAt)}0${signed.slice(narHashAt + 1)}`;
  assert.equal(verifyNarinfo(tampered, [nixKey, guixKey]).valid, false);
});

test("keeps other keys' Sig: lines; the key name defaults to kiln-<hostname>-1", () => {
  const withNixSig = vectors.find((v) => v.kind === "narinfo")!.text!;
  const signed = signNarinfoBoth(withNixSig, key, { hostname: "farm" });
  assert.deepEqual(
    parseNarinfo(signed).sigs.map((sig) => sig.split(":")[0]),
    ["test-1", "kiln-farm-1"],
  );
  const byName = signNarinfoBoth(unsigned[0], { ...key, nixName: "own-3" }, { hostname: "farm" });
  assert.deepEqual(verifyNarinfo(byName, [{ ...nixKey, name: "own-3" }]).validBy, [
    "Sig own-3",
    "Signature farm",
  ]);
});

test("refuses text already signed by Guix or by this key name, and bad names", () => {
  const signed = signNarinfoBoth(unsigned[0], key, { hostname: "farm", keyName: "farm-1" });
  assert.throws(
    () => signNarinfoBoth(signed, key, { hostname: "farm" }),
    /already has a Signature/,
  );
  const sigOnly = signed.replace(/^Signature: .*\n/m, "");
  assert.throws(
    () => signNarinfoBoth(sigOnly, key, { hostname: "farm", keyName: "farm-1" }),
    /already has a Sig: line by key "farm-1"/,
  );
  assert.throws(
    () => signNarinfoBoth(unsigned[0], key, { hostname: "farm", keyName: "a:b" }),
    /must be non-empty/,
  );
  assert.throws(() => signNarinfoBoth("StorePath: x\n", key, { hostname: "farm" }), /narinfo/);
});
