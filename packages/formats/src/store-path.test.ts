import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { FormatError } from "./kiln-error.ts";
import { encodeNix32 } from "./nix32.ts";
import {
  isStorePath,
  parseStorePath,
  storePathHashPart,
  validateStoreDir,
  validateStoreName,
} from "./store-path.ts";

interface StorePathCase {
  id: string;
  method: string;
  name: string;
  acceptedByNix28?: boolean;
  error?: string;
  expectedStorePath?: string;
  gnuStorePath?: string;
}

const cases: StorePathCase[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/store-paths.json", import.meta.url), "utf8"),
);

test("every store path in the vectors parses into hash part and name", () => {
  let checked = 0;
  for (const c of cases) {
    for (const [path, storeDir] of [
      [c.expectedStorePath, "/nix/store"],
      [c.gnuStorePath, "/gnu/store"],
    ]) {
      if (path === undefined || storeDir === undefined) continue;
      const parsed = parseStorePath(path, storeDir);
      assert.equal(parsed.name, c.name, c.id);
      assert.equal(`${storeDir}/${parsed.baseName}`, path);
      assert.equal(`${storeDir}/${parsed.hashPart}-${parsed.name}`, path);
      assert.equal(storePathHashPart(path, storeDir), parsed.hashPart);
      assert.ok(isStorePath(path, storeDir));
      assert.ok(!isStorePath(path, storeDir === "/nix/store" ? "/gnu/store" : "/nix/store"));
      checked++;
    }
  }
  assert.ok(checked > 40, `only ${checked} paths checked`);
});

test("names are accepted or rejected as Nix 2.8 did, naming the bad character", () => {
  const nameCases = cases.filter((c) => c.method === "name-validity");
  assert.equal(nameCases.length, 13);
  let charactersNamed = 0;
  for (const c of nameCases) {
    if (c.acceptedByNix28) {
      validateStoreName(c.name);
      continue;
    }
    assert.throws(() => validateStoreName(c.name), FormatError, c.name);
    const illegal = /illegal character ('.*')$/.exec(c.error ?? "")?.[1];
    if (illegal !== undefined) {
      assert.throws(() => validateStoreName(c.name), {
        message: new RegExp(escapeRegExp(illegal)),
      });
      charactersNamed++;
    }
  }
  assert.equal(charactersNamed, 4);
});

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}

test("names: the exact rules at the edges", () => {
  validateStoreName("a".repeat(211));
  assert.throws(() => validateStoreName("a".repeat(212)), /more than 211/);
  assert.throws(() => validateStoreName(""), /empty/);
  assert.throws(() => validateStoreName("tab\there"), /'\\x09'/);
  assert.throws(() => validateStoreName("del\x7f"), /'\\x7f'/);
  assert.throws(() => validateStoreName("日本"), /'\\xe6'/);
  for (const char of "+-._?=") validateStoreName(`a${char}b`);
  for (const char of "/@:!~*'\"\\,;%& ") {
    assert.throws(() => validateStoreName(`a${char}b`), FormatError, char);
  }
});

test("parseStorePath rejects paths that are not directly under the store directory", () => {
  const good = "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt";
  assert.equal(parseStorePath(good).name, "hello.txt");
  const bad = [
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt/bin/hello",
    "/gnu/storek9pad896kygyvpxli7f20bkl9813p9y4-hello.txt",
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4",
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-",
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4_hello.txt",
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y-hello.txt",
    "/gnu/store/e9pad896kygyvpxli7f20bkl9813p9y4-hello.txt",
    "/gnu/store/K9pad896kygyvpxli7f20bkl9813p9y4-hello.txt",
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9yu-hello.txt",
    "/nix/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt",
    "gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt",
    "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-a b",
  ];
  for (const path of bad) {
    assert.throws(() => parseStorePath(path), FormatError, path);
    assert.equal(isStorePath(path), false, path);
  }
});

test("the store directory must be absolute and have no trailing slash", () => {
  validateStoreDir("/gnu/store");
  validateStoreDir("/nix/store");
  for (const dir of ["/gnu/store/", "gnu/store", "", "/gnu//store"]) {
    assert.throws(() => validateStoreDir(dir), FormatError, dir);
    assert.throws(() => parseStorePath(`${dir}/k9pad896kygyvpxli7f20bkl9813p9y4-x`, dir));
  }
});

test("any 20-byte hash and valid name round-trip through parseStorePath", () => {
  const nameChar = fc.constantFrom(..."abcXYZ0189+-._?=");
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.string({ unit: nameChar, minLength: 1, maxLength: 211 }),
      fc.constantFrom("/gnu/store", "/nix/store", "/tmp/x/store"),
      (digest, name, storeDir) => {
        const hashPart = encodeNix32(digest);
        const parsed = parseStorePath(`${storeDir}/${hashPart}-${name}`, storeDir);
        assert.deepEqual(parsed, { hashPart, name, baseName: `${hashPart}-${name}` });
      },
    ),
  );
});
