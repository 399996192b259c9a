import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatHashNix32, hashBytes, toHex } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { KilnError } from "@kiln/formats/kiln-error";
import { checkFixedOutput, fixedOutputHash } from "./fixed-output-hash.ts";

const DRV = "/nix/store/hnjn2gmgyjdm42iyzsjl9m60rhgpfz9g-fixed-flat.txt.drv";

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-fixed-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the declared hash is read from the output's hashAlgo and base16 hash", () => {
  const hex = "9eb7c7ab826efc73eb669257eaf96cdf1d1799270112e240cada4f7e064a4fac";
  const flat = fixedOutputHash({ path: "", hashAlgo: "sha256", hash: hex });
  assert.equal(flat.method, "flat");
  assert.equal(toHex(flat.expected.digest), hex);
  const recursive = fixedOutputHash({ path: "", hashAlgo: "r:sha1", hash: "a".repeat(40) });
  assert.deepEqual([recursive.method, recursive.expected.algorithm], ["recursive", "sha1"]);
});

test("a flat output with the right hash gets Nix's content address", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, "out"), "fixed output content\n");
  // From fixtures/derivations.json, "fixed-flat" and "fixed-sha1".
  const sha256 = fixedOutputHash({
    path: "",
    hashAlgo: "sha256",
    hash: "9eb7c7ab826efc73eb669257eaf96cdf1d1799270112e240cada4f7e064a4fac",
  });
  assert.equal(
    await checkFixedOutput(join(dir, "out"), sha256, { narHash: undefined, drvPath: DRV }),
    `fixed:${formatHashNix32(sha256.expected)}`,
  );
  const sha1 = hashBytes("sha1", "fixed output content\n");
  const ca = await checkFixedOutput(
    join(dir, "out"),
    { method: "flat", expected: sha1 },
    { narHash: undefined, drvPath: DRV },
  );
  assert.equal(ca, "fixed:sha1:m5rs6jlsj5kdrqyxd1ckiaybk0vprp26");
});

test("a recursive output is judged by its NAR hash", async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, "out"));
  writeFileSync(join(dir, "out", "a"), "a\n");
  const { hash } = await hashPath(join(dir, "out"));
  const ca = await checkFixedOutput(
    join(dir, "out"),
    { method: "recursive", expected: hash },
    { narHash: hash, drvPath: DRV },
  );
  assert.equal(ca, `fixed:r:${formatHashNix32(hash)}`);
});

test("a mismatch names both hashes, in nix32 and base16", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, "out"), "something else\n");
  const expected = hashBytes("sha256", "fixed output content\n");
  const actual = hashBytes("sha256", "something else\n");
  await assert.rejects(
    checkFixedOutput(
      join(dir, "out"),
      { method: "flat", expected },
      { narHash: undefined, drvPath: DRV },
    ),
    (error: unknown) => {
      assert.ok(error instanceof KilnError);
      assert.equal(error.code, "ERR_HASH_MISMATCH");
      assert.ok(error.message.includes(DRV));
      for (const hash of [expected, actual]) {
        assert.ok(error.message.includes(formatHashNix32(hash)), "nix32");
        assert.ok(error.message.includes(toHex(hash.digest)), "base16");
      }
      assert.ok(
        error.message.indexOf(formatHashNix32(expected)) <
          error.message.indexOf(formatHashNix32(actual)),
      );
      return true;
    },
  );
});

test("a flat output must be a non-executable regular file", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, "exe"), "x", { mode: 0o755 });
  mkdirSync(join(dir, "dir"));
  const expected = hashBytes("sha256", "x");
  for (const name of ["exe", "dir"]) {
    await assert.rejects(
      checkFixedOutput(
        join(dir, name),
        { method: "flat", expected },
        { narHash: undefined, drvPath: DRV },
      ),
      /should be a non-executable regular file/,
    );
  }
});
