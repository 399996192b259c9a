import assert from "node:assert/strict";
import { test } from "node:test";
import { plainNarHashFiles } from "./fast-hash.ts";

test("the plain NAR-hash forms are recognised, with their files", () => {
  assert.deepEqual(plainNarHashFiles(["hash", "-S", "nar", "a"]), ["a"]);
  assert.deepEqual(plainNarHashFiles(["hash", "a", "--serializer=nar", "b"]), ["a", "b"]);
  assert.deepEqual(plainNarHashFiles(["hash", "-r", "a"]), ["a"]);
  assert.deepEqual(plainNarHashFiles(["hash", "--recursive", "a"]), ["a"]);
  assert.deepEqual(plainNarHashFiles(["hash", "-Snar", "a"]), ["a"]);
  assert.deepEqual(plainNarHashFiles(["hash", "--serializer", "nar", "a"]), ["a"]);
});

test("anything else is left to the full command line", () => {
  for (const argv of [
    ["hash", "a"], // flat hash
    ["hash", "-S", "nar"], // no file
    ["hash", "-S", "none", "a"],
    ["hash", "-S", "nar", "-H", "sha512", "a"],
    ["hash", "-S", "nar", "-f", "hex", "a"],
    ["hash", "-S", "nar", "--help"],
    ["hash", "-S", "nar", "--", "a"],
    ["hash", "-S", "nar", "-", "a"],
    ["hash", "-S", "nar", "", "a"],
    ["hash", "-S"],
    ["--store-dir", "/gnu/store", "hash", "-S", "nar", "a"],
    ["store", "add", "a"],
    [],
  ]) {
    assert.equal(plainNarHashFiles(argv), undefined, JSON.stringify(argv));
  }
});
