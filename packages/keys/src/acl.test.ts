import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatGuixPublicKey, guixKeyPairFromSeed } from "@kiln/formats/guix-key";
import { toBase64 } from "@kiln/formats/hash";
import { parseTrustedKeys } from "@kiln/formats/verify-narinfo";
import { formatAcl, parseAcl, parseAclEntries } from "./acl.ts";
import { authorizeKey } from "./authorize-key.ts";
import { readAcl } from "./read-acl.ts";

const farm = JSON.parse(
  readFileSync(new URL("../../formats/test/fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0] as { publicKey: string };
const keyA = guixKeyPairFromSeed(new Uint8Array(32).fill(21)).q;
const keyB = guixKeyPairFromSeed(new Uint8Array(32).fill(22)).q;
const scratch = () => mkdtempSync(join(tmpdir(), "kiln-acl-"));
const hex = (q: Uint8Array) => Buffer.from(q).toString("hex").toUpperCase();

test("a missing ACL file is empty", () => {
  assert.deepEqual(readAcl(join(scratch(), "acl")), []);
});

test("authorizes a Guix key and a Nix key once each, in Guix's ACL layout", () => {
  const acl = join(scratch(), "etc", "kiln", "acl");
  assert.equal(authorizeKey(acl, farm.publicKey).added, true);
  assert.equal(authorizeKey(acl, `farm-nix-1:${toBase64(keyA)}\n`).added, true);
  const before = readFileSync(acl, "utf8");
  // The same keys again, in the other form each: nothing changes.
  assert.equal(authorizeKey(acl, `x:${toBase64(readAcl(acl)[0])}`).added, false);
  assert.equal(authorizeKey(acl, formatGuixPublicKey(keyA)).added, false);
  assert.equal(readFileSync(acl, "utf8"), before);
  assert.equal(statSync(acl).mode & 0o777, 0o644);
  assert.deepEqual(readAcl(acl).map(hex), [
    "8D156F295D24B0D9A86FA5741A840FF2D24F60F7B6C4134814AD55625971B394",
    hex(keyA),
  ]);
  // libgcrypt's advanced rendering, as `guix archive --authorize` writes it.
  assert.equal(
    before,
    "(acl \n (entry \n  (public-key \n   (ecc \n    (curve Ed25519)\n" +
      "    (q #8D156F295D24B0D9A86FA5741A840FF2D24F60F7B6C4134814AD55625971B394#)\n    )\n   )\n" +
      "  (tag \n   (guix import)\n   )\n  )\n" +
      ` (entry \n  (public-key \n   (ecc \n    (curve Ed25519)\n    (q #${hex(keyA)}#)\n    )\n   )\n` +
      "  (tag \n   (guix import)\n   )\n  )\n )\n",
  );
  // formats' reader of key files reads our ACL too.
  assert.deepEqual(
    parseTrustedKeys(before).map((k) => (k.kind === "guix" ? hex(k.q) : "")),
    readAcl(acl).map(hex),
  );
});

test("keeps entries it cannot use (an old Guix's RSA key) when adding", () => {
  const acl = join(scratch(), "acl");
  const rsa = "(entry (public-key (rsa (n #00C0FFEE#) (e #010001#))) (tag (guix import)))";
  writeFileSync(acl, `(acl ${rsa})`);
  assert.deepEqual(readAcl(acl), []);
  authorizeKey(acl, formatGuixPublicKey(keyB));
  assert.equal(parseAclEntries(readFileSync(acl)).length, 2);
  assert.deepEqual(readAcl(acl).map(hex), [hex(keyB)]);
  assert.match(readFileSync(acl, "utf8"), /\(rsa \n/);
});

test("refuses secret keys, garbage and malformed ACLs, leaving the file alone", () => {
  const acl = join(scratch(), "acl");
  authorizeKey(acl, formatGuixPublicKey(keyA));
  const before = readFileSync(acl, "utf8");
  assert.throws(
    () => authorizeKey(acl, "(private-key (ecc (curve Ed25519) (q #00#) (d #01#)))"),
    /secret key/,
  );
  assert.throws(() => authorizeKey(acl, "not a key"), /nix key/);
  assert.throws(() => authorizeKey(acl, "a:AAAA b:BBBB"), /one public key/);
  assert.equal(readFileSync(acl, "utf8"), before);
  writeFileSync(
    acl,
    "(acl (entry (public-key (ecc (curve Ed25519) (q #00#))) (tag (guix other))))",
  );
  assert.throws(() => readAcl(acl), /entry 1 is not/);
  assert.throws(() => authorizeKey(acl, formatGuixPublicKey(keyB)), /entry 1 is not/);
  assert.throws(() => parseAcl("(not-acl)"), /expected an \(acl/);
});

test("formatAcl of nothing is (acl)", () => {
  assert.equal(formatAcl([]), "(acl)\n");
  assert.deepEqual(parseAcl(formatAcl([])), []);
});
