import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import {
  ED25519_ORDER,
  ed25519PublicPoint,
  signEcdsaEd25519,
  verifyEcdsaEd25519,
} from "./ecdsa-ed25519.ts";
import { guixKeyPairFromSeed } from "./guix-key.ts";

const n = ED25519_ORDER;
const G = ed25519.Point.BASE;

function modInverse(a: bigint): bigint {
  // Fermat: n is prime.
  let result = 1n;
  let base = ((a % n) + n) % n;
  for (let e = n - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * base) % n;
    base = (base * base) % n;
  }
  return result;
}

const digestOf = (data: Uint8Array) => new Uint8Array(createHash("sha256").update(data).digest());
const seeds = fc.uint8Array({ minLength: 32, maxLength: 32 });

test("the order is the 253-bit Ed25519 group order", () => {
  assert.equal(n, 2n ** 252n + 27742317777372353535851937790883648493n);
});

test("signatures satisfy the ECDSA equation, checked independently", () => {
  fc.assert(
    fc.property(seeds, fc.uint8Array({ maxLength: 64 }), (seed, message) => {
      const { q, d } = guixKeyPairFromSeed(seed);
      const digest = digestOf(message);
      const { r, s } = signEcdsaEd25519(digest, d);
      assert.ok(r > 0n && r < n && s > 0n && s < n);
      // e is the digest's leftmost 253 bits; R = (e/s)·G + (r/s)·Q must have x ≡ r.
      const e = BigInt(`0x${Buffer.from(digest).toString("hex")}`) >> 3n;
      const w = modInverse(s);
      const R = G.multiplyUnsafe((e * w) % n).add(
        ed25519.Point.fromBytes(q).multiplyUnsafe((r * w) % n),
      );
      assert.equal(R.toAffine().x % n, r);
      assert.ok(verifyEcdsaEd25519(digest, q, { r, s }));
    }),
    { numRuns: 30 },
  );
});

test("signing is deterministic and depends on digest and key", () => {
  const { d } = guixKeyPairFromSeed(new Uint8Array(32).fill(7));
  const other = guixKeyPairFromSeed(new Uint8Array(32).fill(8));
  const digest = digestOf(Buffer.from("narinfo"));
  assert.deepEqual(signEcdsaEd25519(digest, d), signEcdsaEd25519(digest, d));
  assert.notDeepEqual(signEcdsaEd25519(digest, d), signEcdsaEd25519(digestOf(Buffer.from("x")), d));
  assert.notDeepEqual(signEcdsaEd25519(digest, d), signEcdsaEd25519(digest, other.d));
});

test("rejects wrong digests, keys and out-of-range values", () => {
  const pair = guixKeyPairFromSeed(new Uint8Array(32).fill(1));
  const digest = digestOf(Buffer.from("a"));
  const sig = signEcdsaEd25519(digest, pair.d);
  assert.equal(verifyEcdsaEd25519(digestOf(Buffer.from("b")), pair.q, sig), false);
  assert.equal(verifyEcdsaEd25519(digest, guixKeyPairFromSeed(new Uint8Array(32)).q, sig), false);
  assert.equal(verifyEcdsaEd25519(digest, pair.q, { r: sig.r + n, s: sig.s }), false);
  assert.equal(verifyEcdsaEd25519(digest, pair.q, { r: sig.r, s: 0n }), false);
  assert.equal(verifyEcdsaEd25519(digest, pair.q, { r: sig.r, s: n - sig.s }), false);
  assert.equal(verifyEcdsaEd25519(digest, new Uint8Array(32).fill(0xff), sig), false);
  assert.throws(() => signEcdsaEd25519(new Uint8Array(20), pair.d), /32-byte/);
  assert.throws(() => signEcdsaEd25519(digest, n), /zero mod n/);
});

test("d and d mod n give the same public point", () => {
  const { q, d } = guixKeyPairFromSeed(new Uint8Array(32).fill(3));
  assert.ok(d > n);
  assert.deepEqual(ed25519PublicPoint(d % n), q);
});
