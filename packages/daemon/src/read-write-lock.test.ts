import assert from "node:assert/strict";
import { test } from "node:test";
import { ReadWriteLock } from "./read-write-lock.ts";

test("readers share; a writer waits for them and excludes everyone", async () => {
  const lock = new ReadWriteLock();
  const events: string[] = [];
  const r1 = await lock.shared();
  const r2 = await lock.shared();
  const writer = lock.exclusive().then((release) => {
    events.push("writer");
    return release;
  });
  // A reader arriving while a writer waits queues behind it.
  const late = lock.shared().then((release) => {
    events.push("late reader");
    return release;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, []);
  r1();
  r2();
  const releaseWriter = await writer;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, ["writer"]);
  releaseWriter();
  (await late)();
  assert.deepEqual(events, ["writer", "late reader"]);
  assert.equal(await lock.withShared(() => 42), 42);
});
