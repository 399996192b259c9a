import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { fromHex, type HashAlgorithm, sha256, toHex } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import {
  type FileIngestionMethod,
  fixedOutputPathParts,
  makeFixedOutputPath,
  makeOutputPath,
  makeStorePath,
  makeTextPath,
  storePathFingerprint,
  textPathParts,
} from "./make-store-path.ts";

interface StorePathCase {
  id: string;
  method: string;
  name: string;
  contentHash?: { algo: HashAlgorithm; hex: string };
  references?: string[];
  textBase64?: string;
  gnuText?: string;
  gnuReferences?: string[];
  expectedStorePath?: string;
  gnuStorePath?: string;
  fingerprint?: string;
  gnuFingerprint?: string;
  typeString?: string;
  innerHashHex?: string;
  acceptedByNix28?: boolean;
}

const cases: StorePathCase[] = JSON.parse(
  readFileSync(new URL("../test/fixtures/store-paths.json", import.meta.url), "utf8"),
);
const contentCases = cases.filter((c) => c.method !== "name-validity");

test("fixed content: fingerprint, inner hash and path match every vector, Nix and Guix", () => {
  const fixed = contentCases.filter((c) => c.method === "flat" || c.method === "recursive");
  assert.equal(fixed.length, 16);
  for (const c of fixed) {
    const hash = { algorithm: c.contentHash!.algo, digest: fromHex(c.contentHash!.hex) };
    const method = c.method as FileIngestionMethod;
    for (const [storeDir, fingerprint, path] of [
      ["/nix/store", c.fingerprint, c.expectedStorePath],
      ["/gnu/store", c.gnuFingerprint, c.gnuStorePath],
    ]) {
      const parts = fixedOutputPathParts({ method, hash, references: c.references, storeDir });
      assert.equal(parts.type, c.typeString, c.id);
      assert.equal(toHex(parts.innerHash), c.innerHashHex, c.id);
      assert.equal(storePathFingerprint(parts, { name: c.name, storeDir }), fingerprint, c.id);
      assert.equal(makeFixedOutputPath({ method, hash, name: c.name, storeDir }), path, c.id);
    }
  }
});

test("text files: fingerprint and path match every vector, Nix and Guix", () => {
  const text = contentCases.filter((c) => c.method === "text");
  assert.equal(text.length, 7);
  for (const c of text) {
    const nixText = Buffer.from(c.textBase64!, "base64");
    for (const [storeDir, contents, references, fingerprint, path] of [
      ["/nix/store", nixText, c.references!, c.fingerprint, c.expectedStorePath],
      ["/gnu/store", c.gnuText!, c.gnuReferences!, c.gnuFingerprint, c.gnuStorePath],
    ] as const) {
      const parts = textPathParts(sha256(contents), { references, storeDir });
      assert.equal(storePathFingerprint(parts, { name: c.name, storeDir }), fingerprint, c.id);
      assert.equal(makeTextPath(c.name, contents, { references, storeDir }), path, c.id);
    }
  }
});

test('names Nix 2.8 accepted give its path for toFile NAME "x"; rejected ones throw', () => {
  for (const c of cases.filter((c) => c.method === "name-validity")) {
    if (c.acceptedByNix28) {
      assert.equal(makeTextPath(c.name, "x", { storeDir: "/nix/store" }), c.expectedStorePath);
    } else {
      assert.throws(() => makeTextPath(c.name, "x", { storeDir: "/nix/store" }), FormatError);
    }
  }
});

test("output paths: masked hashes of the derivation vectors give Nix's output paths", () => {
  const drvs: {
    id: string;
    nix: { outputs: Record<string, string>; maskedHash?: string; aterm: string };
    gnu: { outputs: Record<string, string>; maskedHash?: string };
  }[] = JSON.parse(
    readFileSync(new URL("../test/fixtures/derivations.json", import.meta.url), "utf8"),
  );
  let checked = 0;
  for (const drv of drvs) {
    const drvName = /\("name","([^"]*)"\)/.exec(drv.nix.aterm)?.[1];
    if (drv.nix.maskedHash === undefined || drvName === undefined) continue;
    for (const [storeDir, variant] of [
      ["/nix/store", drv.nix],
      ["/gnu/store", drv.gnu],
    ] as const) {
      for (const [outputName, path] of Object.entries(variant.outputs)) {
        const hdm = fromHex(variant.maskedHash!);
        assert.equal(makeOutputPath(outputName, hdm, { drvName, storeDir }), path, drv.id);
        checked++;
      }
    }
  }
  assert.ok(checked >= 20, `${checked}`);
});

test("fixed content other than recursive sha256 cannot have references", () => {
  const reference = "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt";
  const hash = { algorithm: "sha1" as const, digest: new Uint8Array(20) };
  assert.throws(
    () => makeFixedOutputPath({ method: "recursive", hash, name: "x", references: [reference] }),
    /cannot have references/,
  );
  const source = makeFixedOutputPath({
    method: "recursive",
    hash: { algorithm: "sha256", digest: new Uint8Array(32) },
    name: "x",
    references: [reference],
  });
  assert.match(source, /^\/gnu\/store\/[0-9a-z]{32}-x$/);
});

test("references are sorted and de-duplicated, and must be store paths", () => {
  const a = "/gnu/store/k9pad896kygyvpxli7f20bkl9813p9y4-hello.txt";
  const b = "/gnu/store/q13pl5z5pr75fs85is4pirwbd0p53aw3-ref-src.txt";
  const sorted = makeTextPath("t", "x", { references: [a, b] });
  assert.equal(makeTextPath("t", "x", { references: [b, a, b] }), sorted);
  assert.notEqual(makeTextPath("t", "x", { references: [a] }), sorted);
  assert.throws(() => makeTextPath("t", "x", { references: ["/nix/store/x"] }), FormatError);
});

test("makeStorePath validates its inputs", () => {
  const inner = new Uint8Array(32);
  assert.throws(() => makeStorePath("text", inner, { name: "a b" }), /illegal character ' '/);
  assert.throws(() => makeStorePath("text", inner, { name: "x", storeDir: "/gnu/store/" }));
  assert.throws(() => makeStorePath("text", new Uint8Array(20), { name: "x" }), /not 32/);
});

test("the path depends on every part of the fingerprint", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constantFrom("text", "source", "output:out", "output:dev"),
      fc.constantFrom("/gnu/store", "/nix/store"),
      (inner, type, storeDir) => {
        const path = makeStorePath(type, inner, { name: "n", storeDir });
        assert.ok(path.startsWith(`${storeDir}/`));
        const flipped = inner.slice();
        flipped[0] ^= 1;
        assert.notEqual(makeStorePath(type, flipped, { name: "n", storeDir }), path);
        assert.notEqual(makeStorePath(`${type}x`, inner, { name: "n", storeDir }), path);
        assert.notEqual(makeStorePath(type, inner, { name: "m", storeDir }), path);
      },
    ),
    { numRuns: 50 },
  );
});
