import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  formatGuixPublicKey,
  formatGuixSecretKey,
  guixKeyPairFromSeed,
} from "@kiln/formats/guix-key";
import { KilnError } from "@kiln/formats/kiln-error";
import { parseNixPublicKey } from "@kiln/formats/nix-signature";
import { KeysError } from "./keys-error.ts";
import { readPublicKey } from "./read-public-key.ts";
import { readSecretKey } from "./signing-key.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../formats/test/fixtures/narinfo.json", import.meta.url), "utf8"),
) as { kind: string; secretKey?: string; publicKey?: string }[];
const nixKey = vectors.find((v) => v.kind === "signing-key")!;
const dir = mkdtempSync(join(tmpdir(), "kiln-keys-"));

test("reads a Guix secret key file", () => {
  const pair = guixKeyPairFromSeed(new Uint8Array(32).fill(3));
  writeFileSync(join(dir, "g.sec"), formatGuixSecretKey(pair));
  assert.deepEqual(readSecretKey(join(dir, "g.sec")), pair);
});

test("reads a Nix secret key file: its q is the Nix public key and it keeps its name", () => {
  writeFileSync(join(dir, "n.sec"), nixKey.secretKey!);
  const key = readSecretKey(join(dir, "n.sec"));
  assert.equal(key.nixName, "test-1");
  assert.deepEqual(key.q, parseNixPublicKey(nixKey.publicKey!).key);
});

test("reads public keys in both forms", () => {
  const pair = guixKeyPairFromSeed(new Uint8Array(32).fill(4));
  writeFileSync(join(dir, "g.pub"), formatGuixPublicKey(pair.q));
  assert.deepEqual(readPublicKey(join(dir, "g.pub")), { q: pair.q });
  writeFileSync(join(dir, "n.pub"), `${nixKey.publicKey}\n`);
  const nix = readPublicKey(join(dir, "n.pub"));
  assert.equal(nix.nixName, "test-1");
  assert.deepEqual(nix.q, parseNixPublicKey(nixKey.publicKey!).key);
});

test("a missing key file is an error naming it, with a hint", () => {
  const missing = join(dir, "nope.sec");
  assert.throws(
    () => readSecretKey(missing),
    (error: unknown) =>
      error instanceof KeysError &&
      error.code === "ERR_KEYS_MISSING" &&
      error.message.includes(missing) &&
      /--generate-key/.test(error.hint ?? ""),
  );
});

test("refuses a public key where a secret one is expected, and the reverse", () => {
  const pair = guixKeyPairFromSeed(new Uint8Array(32).fill(5));
  writeFileSync(join(dir, "swap.sec"), formatGuixPublicKey(pair.q));
  assert.throws(() => readSecretKey(join(dir, "swap.sec")), KilnError);
  writeFileSync(join(dir, "swap.pub"), formatGuixSecretKey(pair));
  assert.throws(() => readPublicKey(join(dir, "swap.pub")), /secret key; give the public key/);
  writeFileSync(join(dir, "nixswap.pub"), nixKey.secretKey!);
  assert.throws(() => readPublicKey(join(dir, "nixswap.pub")), /64 bytes, not 32/);
});

test("refuses a secret key whose q is not d·G, and garbage", () => {
  const pair = guixKeyPairFromSeed(new Uint8Array(32).fill(6));
  const other = guixKeyPairFromSeed(new Uint8Array(32).fill(7));
  writeFileSync(join(dir, "bad.sec"), formatGuixSecretKey({ q: other.q, d: pair.d }));
  assert.throws(() => readSecretKey(join(dir, "bad.sec")), /q is not d·G/);
  writeFileSync(join(dir, "junk.sec"), "hello world\n");
  assert.throws(() => readSecretKey(join(dir, "junk.sec")), /neither a Guix/);
});
