import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { guixKeyPairFromSeed } from "@kiln/formats/guix-key";
import { parseNixPublicKey } from "@kiln/formats/nix-signature";
import { verifyNarinfo } from "@kiln/formats/verify-narinfo";
import { signNarinfoBoth } from "./sign-narinfo-both.ts";
import { aclTrustedKeys, trustedKeysForNarinfo } from "./trusted-keys.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../formats/test/fixtures/narinfo.json", import.meta.url), "utf8"),
) as { kind: string; text?: string; publicKey?: string }[];
const nixSigned = vectors.find((v) => v.kind === "narinfo")!.text!;
const nixPublic = parseNixPublicKey(vectors.find((v) => v.kind === "signing-key")!.publicKey!);
const other = guixKeyPairFromSeed(new Uint8Array(32).fill(31));

test("a narinfo signed only by Nix is accepted once its key is in the ACL, under any name", () => {
  const acl = [other.q, nixPublic.key];
  const keys = trustedKeysForNarinfo(acl, nixSigned);
  assert.deepEqual(keys.at(-1), { kind: "nix", name: "test-1", key: nixPublic.key });
  assert.deepEqual(verifyNarinfo(nixSigned, keys).validBy, ["Sig test-1"]);
  // Without the key, or with a changed text, it is refused.
  assert.equal(verifyNarinfo(nixSigned, trustedKeysForNarinfo([other.q], nixSigned)).valid, false);
  const tampered = nixSigned.replace("NarSize: 280", "NarSize: 281");
  assert.equal(verifyNarinfo(tampered, trustedKeysForNarinfo(acl, tampered)).valid, false);
});

test("Kiln's doubly signed narinfos verify with the plain ACL list", () => {
  const text = signNarinfoBoth(nixSigned.replace(/^Sig: .*\n/m, ""), other, { hostname: "farm" });
  // The plain ACL list vouches for both lines too: a Sig: under an unknown name is checked
  // against the ACL's keys (verify-narinfo.ts).
  assert.deepEqual(verifyNarinfo(text, aclTrustedKeys([other.q])).validBy, [
    "Sig kiln-farm-1",
    "Signature farm",
  ]);
  assert.deepEqual(verifyNarinfo(text, trustedKeysForNarinfo([other.q], text)).validBy, [
    "Sig kiln-farm-1",
    "Signature farm",
  ]);
  assert.equal(verifyNarinfo(text, aclTrustedKeys([nixPublic.key])).valid, false);
});

test("malformed narinfos and signatures give the plain list, never an exception", () => {
  assert.deepEqual(trustedKeysForNarinfo([other.q], "junk"), aclTrustedKeys([other.q]));
  const badSig = nixSigned.replace(/^Sig: test-1:.*$/m, "Sig: test-1:AAAA");
  assert.deepEqual(trustedKeysForNarinfo([nixPublic.key], badSig), aclTrustedKeys([nixPublic.key]));
});
