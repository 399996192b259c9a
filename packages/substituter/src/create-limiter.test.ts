import assert from "node:assert/strict";
import { test } from "node:test";
import { createLimiter } from "./create-limiter.ts";

test("a limiter runs at most its limit at once, in order, and frees slots on failure", async () => {
  const limit = createLimiter(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, index) =>
      limit(async () => {
        started.push(index);
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (index % 4 === 0) throw new Error(`task ${index}`);
        return index;
      }),
    ),
  );
  assert.equal(most, 3);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    results.map((result) => result.status),
    [
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ],
  );
  assert.throws(() => createLimiter(0), RangeError);
});
