import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hashPath } from "@kiln/formats/hash-path";
import { encodeNix32 } from "@kiln/formats/nix32";
import fc from "fast-check";
import { scanOutput } from "./scan-output.ts";

const storePath = (name: string) => `/nix/store/${encodeNix32(randomBytes(20))}-${name}`;

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-scan-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("one pass gives Nix's NAR hash and size, and exactly the references present", async (t) => {
  const dir = scratch(t);
  const [lib, self, unused, inLink] = ["lib", "self", "unused", "linked"].map(storePath);
  const out = join(dir, "out");
  mkdirSync(join(out, "bin"), { recursive: true });
  // A reference across the 1 MiB chunk boundary of the NAR walk is found too.
  const big = Buffer.alloc(3 << 20, 0x2e);
  Buffer.from(lib).copy(big, (1 << 20) - 20);
  writeFileSync(join(out, "bin", "tool"), big, { mode: 0o755 });
  writeFileSync(join(out, "self"), `I am ${self}\n`);
  symlinkSync(`${inLink}/bin/x`, join(out, "link"));
  const scan = await scanOutput(out, { candidates: [unused, self, lib, inLink] });
  const expected = await hashPath(out);
  assert.deepEqual(scan.narHash, expected.hash);
  assert.equal(scan.narSize, expected.narSize);
  assert.deepEqual(scan.references, [lib, self, inLink].sort());
  assert.equal(scan.hash, undefined);
});

test("the declared algorithm of a recursive fixed output is computed in the same pass", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, "file"), "fixed\n");
  for (const algorithm of ["sha1", "sha512", "md5", "sha256"] as const) {
    const scan = await scanOutput(join(dir, "file"), { candidates: [], algorithm });
    assert.deepEqual(scan.hash, (await hashPath(join(dir, "file"), algorithm)).hash);
    assert.deepEqual(scan.narHash, (await hashPath(join(dir, "file"))).hash);
  }
});

test("property: the references are the candidates whose hash parts occur", async (t) => {
  const dir = scratch(t);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.array(fc.string({ maxLength: 40 }), { minLength: 8, maxLength: 8 }),
      async (present, fillers) => {
        const candidates = present.map((_, i) => storePath(`c${i}`));
        const text = present.map((p, i) => `${fillers[i]}${p ? candidates[i] : ""}`).join("");
        const file = join(dir, `f${n++}`);
        writeFileSync(file, text);
        const scan = await scanOutput(file, { candidates });
        assert.deepEqual(scan.references, candidates.filter((_, i) => present[i]).sort());
      },
    ),
    { numRuns: 60 },
  );
});
