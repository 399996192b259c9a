import assert from "node:assert/strict";
import { hostname } from "node:os";
import { test } from "node:test";
import { guixKeyPairFromSeed, parseGuixPublicKey } from "@kiln/formats/guix-key";
import { parseNixPublicKey } from "@kiln/formats/nix-signature";
import { defaultKeyName, exportPublicKey } from "./export-public-key.ts";

const { q } = guixKeyPairFromSeed(new Uint8Array(32).fill(8));

test("the Nix form is name:base64(q), parsed back to the same key", () => {
  const text = exportPublicKey(q, "nix", { name: "farm-1" });
  assert.deepEqual(parseNixPublicKey(text), { name: "farm-1", key: q });
  assert.doesNotMatch(text, /\n/);
});

test("the Nix name defaults to the key's own, then to kiln-<hostname>-1", () => {
  assert.equal(exportPublicKey({ q, nixName: "mine-2" }, "nix").split(":")[0], "mine-2");
  assert.equal(exportPublicKey(q, "nix").split(":")[0], `kiln-${hostname()}-1`);
  assert.equal(defaultKeyName("a b:c"), "kiln-a-b-c-1");
});

test("the Guix form is the signing-key.pub text", () => {
  const text = exportPublicKey(q, "guix");
  assert.deepEqual(parseGuixPublicKey(text), q);
  assert.match(
    text,
    /^\(public-key \n \(ecc \n {2}\(curve Ed25519\)\n {2}\(q #[0-9A-F]{64}#\)\n {2}\)\n \)\n$/,
  );
});

test("refuses a Nix name that trusted-public-keys could not hold", () => {
  assert.throws(() => exportPublicKey(q, "nix", { name: "a:b" }), /must be non-empty/);
  assert.throws(() => exportPublicKey(q, "nix", { name: "a b" }), /must be non-empty/);
  assert.throws(() => exportPublicKey(q, "nix", { name: "" }), /must be non-empty/);
});
