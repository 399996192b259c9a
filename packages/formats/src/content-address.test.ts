import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  type ContentAddress,
  contentAddressPathParts,
  formatContentAddress,
  parseContentAddress,
  storePathForContentAddress,
} from "./content-address.ts";
import { sha256, toBase64, toHex } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import { storePathFingerprint } from "./make-store-path.ts";

interface StorePathCase {
  id: string;
  method: string;
  name: string;
  ca?: string;
  contentHash?: { algo: string; hex: string };
  references?: string[];
  gnuText?: string;
  gnuReferences?: string[];
  expectedStorePath?: string;
  gnuStorePath?: string;
  fingerprint?: string;
  gnuFingerprint?: string;
}

const cases: StorePathCase[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/store-paths.json", import.meta.url), "utf8"),
).filter((c: StorePathCase) => c.ca !== undefined);

test("every CA string parses to the vector's method and hash and prints back", () => {
  assert.equal(cases.length, 23);
  for (const c of cases) {
    const ca = parseContentAddress(c.ca!);
    assert.equal(ca.method, c.method, c.id);
    assert.equal(ca.hash.algorithm, c.contentHash!.algo, c.id);
    assert.equal(toHex(ca.hash.digest), c.contentHash!.hex, c.id);
    assert.equal(formatContentAddress(ca), c.ca, c.id);
  }
});

test("the store path and fingerprint of every CA match Nix, under /nix/store and /gnu/store", () => {
  for (const c of cases) {
    const ca = parseContentAddress(c.ca!);
    const nix = { name: c.name, references: c.references, storeDir: "/nix/store" };
    assert.equal(storePathForContentAddress(ca, nix), c.expectedStorePath, c.id);
    assert.equal(storePathFingerprint(contentAddressPathParts(ca, nix), nix), c.fingerprint);
    // A text file that refers to store paths has different contents under /gnu/store.
    const gnuCa: ContentAddress =
      c.method === "text"
        ? { method: "text", hash: { algorithm: "sha256", digest: sha256(c.gnuText!) } }
        : ca;
    const gnu = { name: c.name, references: c.gnuReferences ?? [], storeDir: "/gnu/store" };
    assert.equal(storePathForContentAddress(gnuCa, gnu), c.gnuStorePath, c.id);
    assert.equal(storePathFingerprint(contentAddressPathParts(gnuCa, gnu), gnu), c.gnuFingerprint);
  }
});

test("digests in base16 and base64 are read too", () => {
  const hex = "1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13";
  const viaHex = parseContentAddress(`fixed:r:sha256:${hex}`);
  const viaBase64 = parseContentAddress(`fixed:r:sha256:${toBase64(Buffer.from(hex, "hex"))}`);
  assert.equal(
    formatContentAddress(viaHex),
    "fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
  );
  assert.deepEqual(viaBase64, viaHex);
});

test("malformed CA strings are FormatErrors", () => {
  for (const text of [
    "",
    "text",
    "source:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
    "text:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm",
    "fixed:sha256:04zwf782",
    "fixed:r:sha3:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
    "fixed:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw",
  ]) {
    assert.throws(() => parseContentAddress(text), FormatError, text);
  }
});
