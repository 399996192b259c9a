import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { FormatError } from "./kiln-error.ts";
import { dumpPath } from "./nar-writer.ts";
import { createReferenceScanner } from "./reference-scanner.ts";

const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";
const hashPart = fc.string({ unit: fc.constantFrom(...NIX32), minLength: 32, maxLength: 32 });

/** What a scanner must find: every candidate occurring anywhere in the whole input. */
function naive(data: Buffer, candidates: readonly string[]): Set<string> {
  return new Set(candidates.filter((c) => data.includes(c, 0, "latin1")));
}

function scan(candidates: readonly string[], chunks: Iterable<Uint8Array>): Set<string> {
  const scanner = createReferenceScanner(candidates);
  for (const chunk of chunks) scanner.update(chunk);
  return scanner.found();
}

function* split(data: Uint8Array, sizes: readonly number[]): Generator<Uint8Array> {
  for (let i = 0, offset = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length];
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

test("finds hash parts across every chunk boundary", () => {
  const part = "1b8m03r63zqhnjf7l5wnldhh7c134ap5";
  const data = Buffer.from(`\0\x01/nix/store/${part}-hello/bin/hello\0`, "latin1");
  for (let cut = 0; cut <= data.length; cut++) {
    const found = scan([part, "0".repeat(32)], [data.subarray(0, cut), data.subarray(cut)]);
    assert.deepEqual(found, new Set([part]), `cut at ${cut}`);
  }
  assert.deepEqual(scan([part], split(data, [1])), new Set([part]));
});

test("a hash inside a longer run of nix32 characters is found; a near miss is not", () => {
  const part = "x".repeat(31) + "0";
  assert.deepEqual(scan([part], [Buffer.from(`aaaa${part}zzzz`)]), new Set([part]));
  assert.deepEqual(scan([part], [Buffer.from(`${"x".repeat(31)}e0`)]), new Set());
  assert.deepEqual(scan([part], [Buffer.from("x".repeat(31))]), new Set());
});

test("agrees with a naive search for any data and chunking", () => {
  const filler = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc
      .string({ unit: fc.constantFrom(...NIX32, "e", "-", "/"), maxLength: 80 })
      .map((s) => Buffer.from(s)),
  );
  fc.assert(
    fc.property(
      fc.array(hashPart, { minLength: 1, maxLength: 6 }),
      fc.array(
        fc.oneof(
          filler,
          fc.nat().map((i) => i),
        ),
        { maxLength: 12 },
      ),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 6 }),
      (candidates, pieces, sizes) => {
        const data = Buffer.concat(
          pieces.map((piece) =>
            typeof piece === "number"
              ? Buffer.from(candidates[piece % candidates.length])
              : Buffer.from(piece),
          ),
        );
        assert.deepEqual(scan(candidates, split(data, sizes)), naive(data, candidates));
      },
    ),
    { numRuns: 300 },
  );
});

test("finds references in a dumped tree: file contents and symlink targets", async () => {
  const [inFile, inLink, absent] = [
    "0c0jfyd8iqh4qz5a9ah7iddrxkq2cr8s",
    "1mn9pl7f1gj7ns8dl4bkdaw0mhs3wn2g",
    "2nhsk6zmdlms2hmzr7vqcvaw3n6rfw08",
  ];
  const dir = mkdtempSync(join(tmpdir(), "kiln-refs-"));
  try {
    mkdirSync(join(dir, "bin"));
    writeFileSync(join(dir, "bin/tool"), `#!/nix/store/${inFile}-bash/bin/sh\n`);
    symlinkSync(`/nix/store/${inLink}-lib/lib`, join(dir, "lib"));
    const scanner = createReferenceScanner([inFile, inLink, absent]);
    for await (const chunk of dumpPath(dir)) scanner.update(chunk);
    assert.deepEqual(scanner.found(), new Set([inFile, inLink]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rejects candidates that are not 32 nix32 characters", () => {
  assert.throws(() => createReferenceScanner(["e".repeat(32)]), FormatError);
  assert.throws(
    () => createReferenceScanner(["0".repeat(31)]),
    /not a 32-character nix32 hash part/,
  );
});
