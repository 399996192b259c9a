import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { syncTree } from "./sync-tree.ts";

test("flushes a tree of files, directories and symlinks, and a lone file", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "kiln-sync-test-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "a/b/c"), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(root, "a/b", `f${i}`), `${i}`);
  writeFileSync(join(root, "a/b/c/deep"), "deep");
  symlinkSync("/nonexistent/target", join(root, "a/dangling"));
  await syncTree(root);
  await syncTree(join(root, "a/b/c/deep"));
  await assert.rejects(syncTree(join(root, "missing")), /ENOENT/);
});
