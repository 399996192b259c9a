import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { acquirePathLock } from "./path-lock.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-lock-"));

test("holders in one process take turns", async () => {
  const file = join(dir, "a.lock");
  const order: string[] = [];
  const first = await acquirePathLock(file);
  const second = acquirePathLock(file).then((lock) => {
    order.push("second");
    lock?.release();
  });
  await new Promise((r) => setTimeout(r, 20));
  order.push("first");
  first?.release();
  await second;
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(existsSync(file), false);
});

test("a lock held by a live process is not taken; a dead owner's lock is", async () => {
  const file = join(dir, "b.lock");
  // pid 1 is always alive.
  writeFileSync(file, "1\n");
  assert.equal(await acquirePathLock(file, { wait: false }), undefined);
  // A pid that has exited: run a short process and reuse its pid.
  const dead = spawnSync("true").pid;
  writeFileSync(file, `${dead}\n`);
  const lock = await acquirePathLock(file, { wait: false });
  assert.ok(lock);
  lock.release();
});

test("an empty lock file counts as held only for a grace period", async () => {
  const { utimesSync } = await import("node:fs");
  const file = join(dir, "c.lock");
  writeFileSync(file, "");
  assert.equal(await acquirePathLock(file, { wait: false }), undefined);
  // Left empty by a process killed between creating it and writing its pid.
  utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const lock = await acquirePathLock(file, { wait: false });
  assert.ok(lock);
  lock.release();
});
