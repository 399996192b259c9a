import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { NewPathInfo } from "@kiln/store/path-info";
import { StoreDatabase } from "@kiln/store/store-database";
import { CommitQueue } from "./commit-queue.ts";

const hash = `sha256:${"0".repeat(52)}`;
const info = (name: string, references: string[] = []): NewPathInfo => ({
  path: `/gnu/store/${name.padEnd(32, "a")}-${name}`,
  narHash: hash,
  narSize: 1,
  references,
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "kiln-commit-queue-"));
  const file = (name: string) => {
    const path = join(dir, name);
    writeFileSync(path, name);
    return path;
  };
  const db = new StoreDatabase(":memory:");
  return { db, queue: new CommitQueue(db), file, dispose: () => rmSync(dir, { recursive: true }) };
}

test("staged paths count as valid, with their references, until they are registered", async () => {
  const { db, queue, file, dispose } = setup();
  try {
    const a = info("a");
    const b = info("b", [a.path]);
    const committedA = queue.commit([a], [file("a")]);
    assert.equal(db.isValidPath(a.path), false);
    assert.equal(queue.isValidPath(a.path), true);
    assert.deepEqual(queue.references(a.path), []);
    // b refers to a, staged while a's commit is under way: it goes into the next group.
    const committedB = queue.commit([b], [file("b")]);
    assert.deepEqual(queue.references(b.path), [a.path]);
    await Promise.all([committedA, committedB]);
    assert.equal(db.isValidPath(a.path), true);
    assert.deepEqual(db.references(b.path), [a.path]);
    assert.equal(queue.isValidPath(info("c").path), false);
  } finally {
    dispose();
  }
});

test("a member that cannot be registered fails alone, the rest of its group is committed", async () => {
  const { db, queue, file, dispose } = setup();
  try {
    const first = queue.commit([info("first")], [file("first")]);
    // Both wait for the next group; one refers to a path that is neither valid nor staged.
    const bad = queue.commit([info("bad", [info("nowhere").path])], [file("bad")]);
    const good = queue.commit([info("good")], [file("good")]);
    await first;
    await assert.rejects(bad, /nowhere/);
    await good;
    assert.equal(db.isValidPath(info("good").path), true);
    assert.equal(db.isValidPath(info("bad").path), false);
    assert.equal(queue.isValidPath(info("bad").path), false, "no longer staged");
  } finally {
    dispose();
  }
});

test("a member whose files cannot be flushed is not registered", async () => {
  const { db, queue, dispose } = setup();
  try {
    await assert.rejects(queue.commit([info("gone")], ["/nonexistent/kiln-commit-queue"]));
    assert.equal(db.isValidPath(info("gone").path), false);
  } finally {
    dispose();
  }
});
