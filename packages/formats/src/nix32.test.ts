import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { KilnError } from "./kiln-error.ts";
import { decodeNix32, encodeNix32, nix32Length } from "./nix32.ts";

test("byte 0 ends up at the end of the string", () => {
  const bytes = new Uint8Array(20);
  bytes[0] = 1;
  assert.equal(encodeNix32(bytes), `${"0".repeat(31)}1`);
});

test("lengths match Nix for md5, sha1, sha256, sha512", () => {
  assert.deepEqual([16, 20, 32, 64].map(nix32Length), [26, 32, 52, 103]);
});

test("sha256 of 'hello\\n' NAR matches the Nix vector", () => {
  const nar = Buffer.from(
    "DQAAAAAAAABuaXgtYXJjaGl2ZS0xAAAAAQAAAAAAAAAoAAAAAAAAAAQAAAAAAAAAdHlwZQAAAAAHAAAAAAAAAHJlZ3VsYXIACAAAAAAAAABjb250ZW50cwYAAAAAAAAAaGVsbG8KAAABAAAAAAAAACkAAAAAAAAA",
    "base64",
  );
  const digest = createHash("sha256").update(nar).digest();
  assert.equal(encodeNix32(digest), "04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw");
});

test("decode inverts encode", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      assert.deepEqual(decodeNix32(encodeNix32(bytes), bytes.length), bytes);
    }),
  );
});

test("decode rejects bad letters, wrong lengths and stray high bits", () => {
  assert.throws(() => decodeNix32("e".repeat(52), 32), KilnError);
  assert.throws(() => decodeNix32("0".repeat(51), 32), /expected 52 characters/);
  // 52 letters carry 260 bits; a leading 'z' sets bits beyond 256.
  assert.throws(() => decodeNix32(`z${"0".repeat(51)}`, 32), /bits set beyond/);
});
