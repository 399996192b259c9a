import assert from "node:assert/strict";
import { test } from "node:test";
import { BusyPoll } from "./busy-poll.ts";

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("polls until the window after the last answer has passed, then stops", async () => {
  let now = 0;
  const poll = new BusyPoll(200, () => now);
  poll.answered();
  assert.equal(poll.polling, true);
  await turn();
  await turn();
  assert.equal(poll.polling, true);
  now = 0.15; // 150 µs later: another answer extends the window to 350 µs
  poll.answered();
  now = 0.3;
  await turn();
  await turn();
  assert.equal(poll.polling, true);
  now = 0.36;
  await turn();
  await turn();
  assert.equal(poll.polling, false);
  const turns = poll.turns;
  await turn();
  assert.equal(poll.turns, turns, "no turns once the window has passed");
});

test("a window of 0 never polls; stop() ends polling at the next turn", async () => {
  const off = new BusyPoll(0, () => 0);
  off.answered();
  assert.equal(off.polling, false);
  const poll = new BusyPoll(1_000_000, () => 0);
  poll.answered();
  await turn();
  assert.equal(poll.polling, true);
  poll.stop();
  await turn();
  await turn();
  assert.equal(poll.polling, false);
});

test("other callbacks keep running while it polls", async () => {
  const poll = new BusyPoll(1_000_000);
  poll.answered();
  const fired = await new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 5));
  assert.equal(fired, true);
  assert.ok(poll.turns > 1);
  poll.stop();
  await turn();
  await turn();
});
