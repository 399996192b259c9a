import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { test } from "node:test";
import { guixKeyPairFromSeed } from "@kiln/formats/guix-key";
import fc from "fast-check";
import { signEd25519WithScalar } from "./sign-ed25519-with-scalar.ts";

const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const publicKeyObject = (q: Uint8Array) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, q]), format: "der", type: "spki" });

test("signatures made from d verify with OpenSSL's Ed25519 against q", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      (seed, message) => {
        const key = guixKeyPairFromSeed(seed);
        const signature = signEd25519WithScalar(message, key);
        assert.equal(signature.length, 64);
        assert.ok(verify(null, message, publicKeyObject(key.q), signature));
        // The same inputs give the same bytes (no randomness that could repeat a nonce).
        assert.deepEqual(signEd25519WithScalar(message, key), signature);
        // And they verify nothing else.
        const other = Buffer.concat([message, Buffer.of(0)]);
        assert.ok(!verify(null, other, publicKeyObject(key.q), signature));
      },
    ),
    { numRuns: 60 },
  );
});

test("different messages get different nonces (R differs)", () => {
  const key = guixKeyPairFromSeed(new Uint8Array(32).fill(9));
  const a = signEd25519WithScalar(Buffer.from("a"), key);
  const b = signEd25519WithScalar(Buffer.from("b"), key);
  assert.notDeepEqual(a.subarray(0, 32), b.subarray(0, 32));
});

test("a signature does not verify under another key", () => {
  const key = guixKeyPairFromSeed(new Uint8Array(32).fill(1));
  const other = guixKeyPairFromSeed(new Uint8Array(32).fill(2));
  const message = Buffer.from("1;/nix/store/x;sha256:y;1;");
  assert.ok(!verify(null, message, publicKeyObject(other.q), signEd25519WithScalar(message, key)));
});
