import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { formatGuixPublicKey, guixKeyPairFromSeed } from "./guix-key.ts";
import { signGuixNarinfo } from "./guix-signature.ts";
import { FormatError } from "./kiln-error.ts";
import { narinfoFingerprint } from "./narinfo-fingerprint.ts";
import { generateNixKeyPair, nixKeyPairFromSeed, signNix } from "./nix-signature.ts";
import { parseNarinfo } from "./parse-narinfo.ts";
import { printNarinfo } from "./print-narinfo.ts";
import { parseTrustedKeys, verifyNarinfo } from "./verify-narinfo.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/narinfo.json", import.meta.url), "utf8"),
);
const nixKey = vectors.find((v: { kind: string }) => v.kind === "signing-key");
const narinfos = vectors.filter((v: { kind: string }) => v.kind === "narinfo");
const farm = JSON.parse(
  readFileSync(new URL("../test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];

test("reads Nix key lists, Guix public keys and Guix ACLs", () => {
  const other = generateNixKeyPair("other-1").publicKey;
  const nix = parseTrustedKeys(`${nixKey.publicKey}\n${other}\n`);
  assert.deepEqual(
    nix.map((k) => k.kind === "nix" && k.name),
    ["test-1", "other-1"],
  );
  const [guix] = parseTrustedKeys(farm.publicKey);
  assert.equal(guix.kind, "guix");
  const kiln = guixKeyPairFromSeed(new Uint8Array(32).fill(5));
  const acl = `(acl (entry ${farm.publicKey} (tag (guix import))) (entry ${formatGuixPublicKey(kiln.q)} (tag (guix import))))`;
  assert.deepEqual(
    parseTrustedKeys(acl).map((k) => k.kind === "guix" && Buffer.from(k.q).toString("hex")),
    [guix, { kind: "guix", q: kiln.q }].map(
      (k) => k.kind === "guix" && Buffer.from(k.q).toString("hex"),
    ),
  );
});

test("refuses key files it cannot use", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["(private-key (ecc (curve Ed25519) (q #00#) (d #01#)))", /secret key/],
    ["(acl (entry (tag (guix import))))", /no \(public-key/],
    [nixKey.secretKey, /64 bytes, not 32/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseTrustedKeys(text),
      (e: unknown) => e instanceof FormatError && message.test(e.message),
    );
  }
});

test("every real Nix narinfo verifies with the Nix key, and not with another", () => {
  const keys = parseTrustedKeys(nixKey.publicKey);
  for (const vector of narinfos) {
    assert.deepEqual(verifyNarinfo(vector.text, keys), {
      valid: true,
      validBy: ["Sig test-1"],
      failures: [],
    });
  }
  const wrong = verifyNarinfo(
    narinfos[0].text,
    parseTrustedKeys(generateNixKeyPair("test-2").publicKey),
  );
  assert.deepEqual(wrong, {
    valid: false,
    validBy: [],
    failures: ['Sig test-1: no trusted key named "test-1"'],
  });
});

test("the farm's narinfo verifies with the farm key, and says why not otherwise", () => {
  assert.deepEqual(verifyNarinfo(farm.narinfo, parseTrustedKeys(farm.publicKey)), {
    valid: true,
    validBy: ["Signature berlin.guixsd.org"],
    failures: [],
  });
  const other = parseTrustedKeys(nixKey.publicKey);
  const result = verifyNarinfo(farm.narinfo, other);
  assert.equal(result.valid, false);
  assert.match(result.failures[0], /^Signature berlin\.guixsd\.org: unauthorized key/);
});

test("a Kiln narinfo signed for both worlds verifies with either key file", () => {
  const seed = new Uint8Array(32).fill(9);
  const nixPair = nixKeyPairFromSeed("kiln-1", seed);
  const guixPair = guixKeyPairFromSeed(seed);
  const narinfo = parseNarinfo(farm.narinfo);
  const { signature: _, ...unsigned } = narinfo;
  const sig = signNix(nixPair.secretKey, narinfoFingerprint(narinfo, { storeDir: "/gnu/store" }));
  const text = signGuixNarinfo(printNarinfo({ ...unsigned, sigs: [sig] }, { flavour: "guix" }), {
    ...guixPair,
    hostname: "kiln",
  });
  assert.match(text, /\nSig: kiln-1:.*\nSignature: 1;kiln;.*\n$/);
  assert.deepEqual(verifyNarinfo(text, parseTrustedKeys(nixPair.publicKey)).validBy, [
    "Sig kiln-1",
    "Signature kiln",
  ]);
  // The Guix key file vouches for both lines: it is the same key.
  assert.deepEqual(verifyNarinfo(text, parseTrustedKeys(formatGuixPublicKey(guixPair.q))).validBy, [
    "Sig kiln-1",
    "Signature kiln",
  ]);
  const tampered = verifyNarinfo(
    text.replace("NarSize: 637360", "NarSize: 637361"),
    parseTrustedKeys(nixPair.publicKey),
  );
  assert.equal(tampered.valid, false);
  assert.deepEqual(
    tampered.failures.map((f) => f.replace(/:.*/, "")),
    ["Sig kiln-1", "Signature kiln"],
  );
});

test("unsigned and malformed narinfos are failures, not exceptions", () => {
  const keys = parseTrustedKeys(nixKey.publicKey);
  const unsigned = narinfos[0].text.replace(/Sig: .*\n/, "");
  assert.deepEqual(verifyNarinfo(unsigned, keys).failures, [
    "unsigned: no Sig: or Signature: line",
  ]);
  assert.match(verifyNarinfo("garbage", keys).failures[0], /^malformed narinfo: narinfo: /);
  const sha1 = narinfos[0].text.replace(
    /NarHash: .*/,
    "NarHash: sha1:0000000000000000000000000000000000000000",
  );
  assert.match(verifyNarinfo(sha1, keys).failures[0], /not SHA-256/);
});

test("a Nix Sig: verifies against the same key held in Guix form (a Guix ACL has no names)", () => {
  const text = narinfos[0].narinfo ?? narinfos[0].text;
  const q = new Uint8Array(Buffer.from(nixKey.publicKey.split(":")[1], "base64"));
  const inAcl = parseTrustedKeys(formatGuixPublicKey(q));
  assert.equal(inAcl[0].kind, "guix");
  const result = verifyNarinfo(text, inAcl);
  assert.equal(result.valid, true, result.failures.join("; "));
  assert.deepEqual(result.validBy, ["Sig test-1"]);
  const stranger = parseTrustedKeys(
    formatGuixPublicKey(guixKeyPairFromSeed(new Uint8Array(32).fill(9)).q),
  );
  assert.equal(verifyNarinfo(text, stranger).valid, false);
});
