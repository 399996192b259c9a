import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { acquireLockFile, LinkLocker, lockHeld } from "./lock-file.ts";

const dir = () => mkdtempSync(join(tmpdir(), "kiln-lock-"));

test("a link lock holds the owner's pid from its first instant, and excludes others", () => {
  const d = dir();
  const a = new LinkLocker(join(d, ".a"));
  const b = new LinkLocker(join(d, ".b"));
  const lock = join(d, "x.lock");
  assert.ok(a.tryLock(lock));
  assert.equal(readFileSync(lock, "utf8"), `${process.pid}\n`);
  assert.ok(lockHeld(lock));
  assert.equal(b.tryLock(lock), false);
  a.unlock(lock);
  assert.equal(existsSync(lock), false);
  assert.ok(b.tryLock(lock));
  b.unlock(lock);
  a.close();
  b.close();
  assert.equal(existsSync(join(d, ".a")), false);
});

test("stale locks are taken over: a dead owner, or an empty file older than 10 s", async () => {
  const d = dir();
  const locker = new LinkLocker(join(d, ".pid"));
  const dead = join(d, "dead.lock");
  writeFileSync(dead, "4194303\n");
  assert.equal(lockHeld(dead), false);
  assert.ok(locker.tryLock(dead));
  const empty = join(d, "empty.lock");
  writeFileSync(empty, "");
  assert.ok(lockHeld(empty), "an empty lock may be being written");
  assert.equal(locker.tryLock(empty), false);
  const old = new Date(Date.now() - 60_000);
  utimesSync(empty, old, old);
  assert.equal(lockHeld(empty), false);
  assert.ok(locker.tryLock(empty));
  // acquireLockFile waits for a live holder.
  const held = join(d, "held.lock");
  assert.ok(locker.tryLock(held));
  let acquired = false;
  const waiting = acquireLockFile(held).then((lock) => {
    acquired = true;
    return lock;
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(acquired, false);
  locker.unlock(held);
  (await waiting)?.release();
  assert.ok(acquired);
  assert.equal(await acquireLockFile(dead, { wait: false }), undefined);
});
