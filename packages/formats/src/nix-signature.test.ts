import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { FormatError } from "./kiln-error.ts";
import {
  generateNixKeyPair,
  nixKeyPairFromSeed,
  parseNixPublicKey,
  parseNixSecretKey,
  signNix,
  verifyNix,
} from "./nix-signature.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../test/fixtures/narinfo.json", import.meta.url), "utf8"),
);
const key = vectors.find((v: { kind: string }) => v.kind === "signing-key");
const pairs = vectors.filter((v: { kind: string }) => v.kind === "fingerprint-signature");

test("the vector key parses into seed and public key", () => {
  const secret = parseNixSecretKey(key.secretKey);
  const pub = parseNixPublicKey(key.publicKey);
  assert.equal(secret.name, "test-1");
  assert.deepEqual(secret.publicKey, pub.key);
  assert.deepEqual(
    secret.seed,
    new Uint8Array(Buffer.from(key.secretKey.split(":")[1], "base64").subarray(0, 32)),
  );
  // The random example from `nix-store --generate-binary-cache-key` parses too.
  const example = key.exampleFromNixGenerateBinaryCacheKey;
  assert.deepEqual(
    parseNixSecretKey(example.secretKey).publicKey,
    parseNixPublicKey(example.publicKey).key,
  );
});

test("signing the vector fingerprints reproduces Nix's signatures exactly", () => {
  assert.equal(pairs.length, 8);
  for (const pair of pairs) assert.equal(signNix(key.secretKey, pair.fingerprint), pair.signature);
});

test("every vector signature verifies, and names its key", () => {
  for (const pair of pairs) {
    assert.deepEqual(verifyNix([pair.verifiedWith], pair.fingerprint, pair.signature), {
      valid: true,
      keyName: "test-1",
    });
  }
});

test("verification says why it failed", () => {
  const { fingerprint, signature } = pairs[0];
  const other = generateNixKeyPair("test-1").publicKey;
  const cases: [string[], string, string, RegExp][] = [
    [[key.publicKey], `${fingerprint}x`, signature, /does not match/],
    [[other], fingerprint, signature, /does not match/],
    [
      [generateNixKeyPair("test-2").publicKey],
      fingerprint,
      signature,
      /no trusted key named "test-1"/,
    ],
    [[key.publicKey], fingerprint, "test-1:AAAA", /3 bytes, not 64/],
    [[key.publicKey], fingerprint, "test-1:???", /not valid base64/],
    [[key.publicKey], fingerprint, "nocolon", /no key name/],
  ];
  for (const [keys, fp, sig, reason] of cases) {
    const result = verifyNix(keys, fp, sig);
    assert.equal(result.valid, false);
    assert.match(result.reason ?? "", reason);
  }
});

test("the key is found by name among several", () => {
  const keys = [
    generateNixKeyPair("a").publicKey,
    key.publicKey,
    generateNixKeyPair("b").publicKey,
  ];
  assert.equal(verifyNix(keys, pairs[1].fingerprint, pairs[1].signature).valid, true);
});

test("generated keys sign and verify, and agree with an independent Ed25519", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.string(),
      (seed, fingerprint) => {
        const pair = nixKeyPairFromSeed("kiln-1", seed);
        const sig = signNix(pair.secretKey, fingerprint);
        assert.equal(verifyNix([pair.publicKey], fingerprint, sig).valid, true);
        const raw = Buffer.from(sig.slice("kiln-1:".length), "base64");
        assert.deepEqual(new Uint8Array(raw), ed25519.sign(Buffer.from(fingerprint, "utf8"), seed));
      },
    ),
    { numRuns: 50 },
  );
  const fresh = generateNixKeyPair("fresh");
  assert.match(fresh.secretKey, /^fresh:[A-Za-z0-9+/]{86}==$/);
  assert.match(fresh.publicKey, /^fresh:[A-Za-z0-9+/]{43}=$/);
});

test("malformed keys are refused with a FormatError", () => {
  const pub = parseNixPublicKey(key.publicKey).key;
  const mismatched = `x:${Buffer.concat([Buffer.alloc(32, 1), pub]).toString("base64")}`;
  const cases: [() => unknown, RegExp][] = [
    [() => parseNixSecretKey("no-colon"), /<name>:<base64>/],
    [() => parseNixSecretKey(":AAAA"), /<name>:<base64>/],
    [() => parseNixSecretKey(key.publicKey), /32 bytes, not 64/],
    [() => parseNixSecretKey(mismatched), /does not match its seed/],
    [() => parseNixPublicKey("k:!!!!"), /not valid base64/],
    [() => parseNixPublicKey(key.secretKey), /64 bytes, not 32/],
    [() => nixKeyPairFromSeed("a:b", new Uint8Array(32)), /without ':'/],
    [() => nixKeyPairFromSeed("a", new Uint8Array(31)), /32 bytes/],
  ];
  for (const [run, message] of cases) {
    assert.throws(
      run,
      (error: unknown) => error instanceof FormatError && message.test(error.message),
    );
  }
});
