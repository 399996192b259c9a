import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseGuixPublicKey, parseGuixSecretKey } from "@kiln/formats/guix-key";
import { generateKeyPair } from "./generate-key-pair.ts";
import { KeysError } from "./keys-error.ts";

const scratch = () => mkdtempSync(join(tmpdir(), "kiln-keys-"));

test("writes a consistent pair in Guix's forms, secret 0400 and public 0644, in new directories", () => {
  const dir = join(scratch(), "etc", "kiln");
  const files = {
    publicKeyFile: join(dir, "signing-key.pub"),
    secretKeyFile: join(dir, "signing-key.sec"),
  };
  const previous = process.umask(0o077);
  let key: ReturnType<typeof generateKeyPair>;
  try {
    key = generateKeyPair(files);
  } finally {
    process.umask(previous);
  }
  assert.equal(statSync(files.secretKeyFile).mode & 0o777, 0o400);
  assert.equal(statSync(files.publicKeyFile).mode & 0o777, 0o644);
  const secret = parseGuixSecretKey(readFileSync(files.secretKeyFile, "utf8"));
  assert.deepEqual(secret, { q: key.q, d: key.d });
  assert.deepEqual(parseGuixPublicKey(readFileSync(files.publicKeyFile, "utf8")), key.q);
  assert.deepEqual(readdirSync(dir).sort(), ["signing-key.pub", "signing-key.sec"]);
});

test("two calls give two different keys", () => {
  const dir = scratch();
  const a = generateKeyPair({
    publicKeyFile: join(dir, "a.pub"),
    secretKeyFile: join(dir, "a.sec"),
  });
  const b = generateKeyPair({
    publicKeyFile: join(dir, "b.pub"),
    secretKeyFile: join(dir, "b.sec"),
  });
  assert.notDeepEqual(a.q, b.q);
});

test("refuses to overwrite an existing secret or public key, and changes nothing", () => {
  for (const existing of ["sec", "pub"] as const) {
    const dir = scratch();
    const files = { publicKeyFile: join(dir, "k.pub"), secretKeyFile: join(dir, "k.sec") };
    const path = existing === "sec" ? files.secretKeyFile : files.publicKeyFile;
    writeFileSync(path, "old key\n");
    assert.throws(
      () => generateKeyPair(files),
      (error: unknown) =>
        error instanceof KeysError &&
        error.code === "ERR_KEYS_EXISTS" &&
        error.message.includes(path),
    );
    assert.equal(readFileSync(path, "utf8"), "old key\n");
    assert.deepEqual(readdirSync(dir), [existing === "sec" ? "k.sec" : "k.pub"]);
  }
});
