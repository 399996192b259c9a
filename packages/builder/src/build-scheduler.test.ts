import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { runSchedule, type ScheduledStep } from "./build-scheduler.ts";

interface Step extends ScheduledStep {
  fails?: boolean;
}

/** Steps run for a few microtask-free turns; records when each starts and ends. */
function harness(options: { delay?: (id: string) => number } = {}) {
  const events: string[] = [];
  let running = 0;
  let peak = 0;
  const run = async (step: Step) => {
    running++;
    peak = Math.max(peak, running);
    events.push(`start ${step.drvPath}`);
    await new Promise((resolve) => setTimeout(resolve, options.delay?.(step.drvPath) ?? 1));
    events.push(`end ${step.drvPath}`);
    running--;
    return { ok: step.fails !== true };
  };
  return { events, run, peak: () => peak, succeeded: (r: { ok: boolean }) => r.ok };
}

const step = (drvPath: string, dependsOn: string[] = [], fails = false): Step => ({
  drvPath,
  dependsOn,
  fails,
});

test("runs each step after its dependencies, at most maxJobs at once", async () => {
  const h = harness();
  const steps = [step("a"), step("b"), step("c"), step("d", ["a", "b"]), step("e", ["d", "c"])];
  const outcomes = await runSchedule(steps, { maxJobs: 2, keepGoing: false, ...h });
  assert.equal(h.peak(), 2);
  for (const id of "abcde") assert.equal(outcomes.get(id)?.status, "ran");
  const at = (event: string) => h.events.indexOf(event);
  assert.ok(at("start d") > at("end a") && at("start d") > at("end b"));
  assert.ok(at("start e") > at("end d") && at("start e") > at("end c"));
});

test("maxJobs 1 runs one at a time, in plan order", async () => {
  const h = harness();
  await runSchedule([step("a"), step("b"), step("c")], { maxJobs: 1, keepGoing: false, ...h });
  assert.deepEqual(h.events, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assert.equal(h.peak(), 1);
});

test("after a failure without keepGoing: running steps finish, no new one starts", async () => {
  // a fails fast while b is still running; c would be ready but must not start.
  const h = harness({ delay: (id) => (id === "b" ? 30 : 1) });
  const steps = [step("a", [], true), step("b"), step("c"), step("d", ["a"])];
  const outcomes = await runSchedule(steps, { maxJobs: 2, keepGoing: false, ...h });
  assert.deepEqual(outcomes.get("a"), { status: "ran", result: { ok: false } });
  assert.deepEqual(outcomes.get("b"), { status: "ran", result: { ok: true } });
  assert.deepEqual(outcomes.get("c"), { status: "skipped" });
  assert.deepEqual(outcomes.get("d"), { status: "dependency-failed", failedDependency: "a" });
  assert.ok(!h.events.includes("start c"));
});

test("with keepGoing, independent steps go on and dependents of the failure are marked", async () => {
  const h = harness();
  const steps = [
    step("a", [], true),
    step("b"),
    step("c", ["a"]),
    step("d", ["c"]),
    step("e", ["b"]),
    step("f", ["b", "a"]),
  ];
  const outcomes = await runSchedule(steps, { maxJobs: 1, keepGoing: true, ...h });
  assert.equal(outcomes.get("b")?.status, "ran");
  assert.equal(outcomes.get("e")?.status, "ran");
  for (const id of ["c", "d", "f"]) {
    assert.deepEqual(outcomes.get(id), { status: "dependency-failed", failedDependency: "a" });
  }
  assert.ok(!h.events.some((e) => /start [cdf]/.test(e)));
});

test("aborting starts nothing new", async () => {
  const controller = new AbortController();
  const h = harness({ delay: () => 10 });
  const running = runSchedule([step("a"), step("b"), step("c")], {
    maxJobs: 1,
    keepGoing: true,
    signal: controller.signal,
    ...h,
  });
  setTimeout(() => controller.abort(), 3);
  const outcomes = await running;
  assert.equal(outcomes.get("a")?.status, "ran");
  assert.deepEqual(outcomes.get("b"), { status: "skipped" });
  assert.deepEqual(outcomes.get("c"), { status: "skipped" });
});

test("a rejecting step stops the schedule and its error comes back", async () => {
  const boom = new Error("internal");
  await assert.rejects(
    runSchedule([step("a"), step("b", ["a"])], {
      maxJobs: 1,
      keepGoing: true,
      run: async () => {
        throw boom;
      },
      succeeded: () => true,
    }),
    (error) => error === boom,
  );
  assert.throws(
    () =>
      runSchedule([], { maxJobs: 0, keepGoing: false, run: async () => 1, succeeded: () => true }),
    /maxJobs/,
  );
  assert.equal(
    (
      await runSchedule([], {
        maxJobs: 1,
        keepGoing: false,
        run: async () => 1,
        succeeded: () => true,
      })
    ).size,
    0,
  );
});

test("property: dependencies first, the job limit holds, failures propagate exactly", async () => {
  const arbitrary = fc.integer({ min: 1, max: 14 }).chain((n) =>
    fc.record({
      deps: fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), {
        minLength: n,
        maxLength: n,
      }),
      fails: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      maxJobs: fc.integer({ min: 1, max: 4 }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ deps, fails, maxJobs }) => {
      const n = fails.length;
      const steps = Array.from({ length: n }, (_, i) =>
        step(
          `s${i}`,
          deps[i].flatMap((d, j) => (d && j < i ? [`s${j}`] : [])),
          fails[i],
        ),
      );
      let running = 0;
      const done = new Set<string>();
      const outcomes = await runSchedule(steps, {
        maxJobs,
        keepGoing: true,
        run: async (s) => {
          running++;
          assert.ok(running <= maxJobs);
          for (const dep of s.dependsOn) assert.ok(done.has(dep), `${s.drvPath} after ${dep}`);
          await Promise.resolve();
          running--;
          if (!s.fails) done.add(s.drvPath);
          return !s.fails;
        },
        succeeded: (ok) => ok,
      });
      // With keepGoing, a step runs exactly when none of its transitive dependencies failed.
      const blocked = (i: number): boolean =>
        steps[i].dependsOn.some((d) => {
          const j = Number(d.slice(1));
          return fails[j] || blocked(j);
        });
      for (let i = 0; i < n; i++) {
        assert.equal(outcomes.get(`s${i}`)?.status, blocked(i) ? "dependency-failed" : "ran");
      }
    }),
    { numRuns: 100 },
  );
});
