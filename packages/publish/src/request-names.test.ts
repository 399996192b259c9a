import assert from "node:assert/strict";
import { test } from "node:test";
import { isHashPart, isNix32Sha256, isStoreBaseName, isStoreName } from "./request-names.ts";

const hash = "ykyykp577wb1yhpcm4g1iiy9kvp0fwzr";

test("accepts store names and refuses anything that could leave the store", () => {
  assert.ok(isHashPart(hash));
  assert.ok(isStoreBaseName(`${hash}-hello-2.10`));
  assert.ok(isStoreBaseName(`${hash}-..`)); // a legal Nix name: one path component
  for (const bad of [
    "..",
    `${hash}`,
    `${hash}-`,
    `${hash}-a/b`,
    `${hash}-a b`,
    `${hash.slice(1)}-x`,
    `${hash}e-x`,
    `${hash.replace("y", "e")}-x`, // e is not a nix32 letter
    `${hash.toUpperCase()}-x`,
    `../${hash}-x`,
    `${hash}-x\0`,
    `${hash}-${"a".repeat(212)}`,
  ]) {
    assert.ok(!isStoreBaseName(bad), bad);
  }
  assert.ok(!isHashPart(`${hash}x`));
  assert.ok(isStoreName("flat.txt") && !isStoreName("a/b") && !isStoreName(""));
});

test("nix32 SHA-256 digests are 52 letters starting with 0 or 1", () => {
  assert.ok(isNix32Sha256("0jn6nhl8m3kv6dpwvycyb3d1c3zahprbc58vd5g9x7jydv88a8fy"));
  assert.ok(!isNix32Sha256("2jn6nhl8m3kv6dpwvycyb3d1c3zahprbc58vd5g9x7jydv88a8fy"));
  assert.ok(!isNix32Sha256("0jn6nhl8m3kv6dpwvycyb3d1c3zahprbc58vd5g9x7jydv88a8f"));
  assert.ok(!isNix32Sha256("0jn6nhl8m3kv6dpwvycyb3d1c3zahprbc58vd5g9x7jydv88a8fe"));
});
