import assert from "node:assert/strict";
import { test } from "node:test";
import { JobSlots } from "./job-slots.ts";

test("at most `size` holders; waiters are served in order; releasing twice is harmless", async () => {
  const slots = new JobSlots(2);
  const first = await slots.acquire();
  const second = await slots.acquire();
  const order: number[] = [];
  const third = slots.acquire().then((release) => {
    order.push(3);
    return release;
  });
  const fourth = slots.acquire().then((release) => {
    order.push(4);
    return release;
  });
  assert.equal(slots.busy, 2);
  first();
  first();
  (await third)();
  second();
  (await fourth)();
  assert.deepEqual(order, [3, 4]);
  assert.equal(slots.busy, 0);
});

test("a waiter whose signal aborts leaves the queue", async () => {
  const slots = new JobSlots(1);
  const held = await slots.acquire();
  const controller = new AbortController();
  const waiting = slots.acquire(controller.signal);
  controller.abort(new Error("gone"));
  await assert.rejects(waiting, /gone/);
  held();
  assert.equal(slots.busy, 0);
  assert.throws(() => new JobSlots(0), RangeError);
});
