import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildUserPool } from "./build-user-pool.ts";

const users = [1, 2, 3].map((n) => ({ name: `kb${n}`, uid: 30000 + n, gid: 30000 }));

test("concurrent holders get distinct uids", () => {
  const pool = new BuildUserPool(users);
  const held = [pool.tryAcquire(), pool.tryAcquire(), pool.tryAcquire()];
  assert.deepEqual(held.map((user) => user?.uid).sort(), [30001, 30002, 30003]);
  assert.equal(pool.tryAcquire(), undefined);
  assert.equal(pool.available, 0);
  pool.release(held[1]!);
  assert.equal(pool.tryAcquire()?.uid, held[1]!.uid);
});

test("acquire waits for a release, first come first served", async () => {
  const pool = new BuildUserPool(users.slice(0, 1));
  const first = await pool.acquire();
  const order: string[] = [];
  const a = pool.acquire().then((user) => order.push(`a:${user.uid}`));
  const b = pool.acquire().then((user) => order.push(`b:${user.uid}`));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, []);
  pool.release(first);
  await a;
  assert.deepEqual(order, ["a:30001"]);
  pool.release(users[0]);
  await b;
  assert.deepEqual(order, ["a:30001", "b:30001"]);
});

test("an aborted wait rejects and does not take the next user", async () => {
  const pool = new BuildUserPool(users.slice(0, 1));
  const first = await pool.acquire();
  const controller = new AbortController();
  const waiting = pool.acquire({ signal: controller.signal });
  controller.abort(new Error("cancelled"));
  await assert.rejects(waiting, /cancelled/);
  pool.release(first);
  assert.equal(pool.available, 1);
});

test("empty pools, duplicate uids and foreign releases are refused", () => {
  assert.throws(() => new BuildUserPool([]), /pool is empty/);
  assert.throws(() => new BuildUserPool([users[0], { ...users[1], uid: 30001 }]), /share a uid/);
  const pool = new BuildUserPool(users);
  assert.throws(() => pool.release(users[0]), /was not acquired/);
});
