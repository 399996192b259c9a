import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hashPath } from "./hash-path.ts";
import { NarHashWorker } from "./nar-hash-worker.ts";

const scratch = mkdtempSync(join(tmpdir(), "kiln-hash-worker-"));

function tree(files: number, size: number): string {
  const dir = join(scratch, `t${files}x${size}`);
  mkdirSync(join(dir, "sub"), { recursive: true });
  for (let i = 0; i < files; i++) {
    writeFileSync(join(dir, i % 2 ? "sub" : "", `f${i}`), Buffer.alloc(size, i), {
      mode: i % 3 ? 0o644 : 0o755,
    });
  }
  return dir;
}

test("the worker's hashes equal hashPath's, for trees larger than its ring, in every algorithm", async () => {
  // 3 slots of 64 KiB: a 2 MiB tree wraps around the ring many times.
  const worker = NarHashWorker.start({ slots: 3, slotSize: 1 << 16 });
  try {
    const dir = tree(40, 50_000);
    // Let the worker boot so the threaded path is the one tested.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const algorithm of ["sha256", "sha512", "sha1", "md5"] as const) {
      assert.deepEqual(
        await worker.hashPath(dir, algorithm),
        await hashPath(dir, algorithm),
        algorithm,
      );
    }
  } finally {
    await worker.close();
  }
});

test("a small tree walked before the worker has booted is hashed on this thread, and later jobs still work", async () => {
  const worker = NarHashWorker.start();
  try {
    const small = tree(3, 10);
    assert.deepEqual(await worker.hashPath(small), await hashPath(small));
    const big = tree(30, 100_000);
    assert.deepEqual(await worker.hashPath(big), await hashPath(big));
  } finally {
    await worker.close();
  }
});
