import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type GoSignal, runSchedule, type ScheduledStep } from "./build-scheduler.ts";

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

/** a ← b ← c: each step depends on the one before. */
const chain = () => [step("a"), step("b", ["a"]), step("c", ["b"])];

/**
 * Random schedules for the properties: 1 to `size` steps `s0`, `s1`, …, each depending on
 * any of the earlier ones and failing or not, a job limit of 1 to `maxJobs`, keepGoing
 * or not.
 */
function arbitrarySchedule(size: number, maxJobs: number) {
  return fc.integer({ min: 1, max: size }).chain((n) =>
    fc.record({
      steps: fc
        .tuple(
          fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), {
            minLength: n,
            maxLength: n,
          }),
          fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        )
        .map(([deps, fails]) =>
          Array.from({ length: n }, (_, i) =>
            step(
              `s${i}`,
              deps[i].flatMap((d, j) => (d && j < i ? [`s${j}`] : [])),
              fails[i],
            ),
          ),
        ),
      maxJobs: fc.integer({ min: 1, max: maxJobs }),
      keepGoing: fc.boolean(),
    }),
  );
}

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
  await fc.assert(
    fc.asyncProperty(arbitrarySchedule(14, 4), async ({ steps, maxJobs }) => {
      const n = steps.length;
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
          return steps[j].fails || blocked(j);
        });
      for (let i = 0; i < n; i++) {
        assert.equal(outcomes.get(`s${i}`)?.status, blocked(i) ? "dependency-failed" : "ran");
      }
    }),
    { numRuns: 100 },
  );
});

test("a released step frees its slot and starts its dependents before its result", async () => {
  const events: string[] = [];
  const { promise: aFinished, resolve: finishA } = Promise.withResolvers<void>();
  const outcomes = await runSchedule(chain(), {
    maxJobs: 1,
    keepGoing: false,
    succeeded: (result: { ok: boolean }) => result.ok,
    run: async (s, release) => {
      events.push(`start ${s.drvPath}`);
      if (s.drvPath === "a") {
        release();
        await aFinished; // registration still going on
      }
      if (s.drvPath === "c") finishA();
      events.push(`end ${s.drvPath}`);
      return { ok: true };
    },
  });
  // b and c ran while a was still waiting for its result, with one job slot.
  assert.deepEqual(events, ["start a", "start b", "end b", "start c", "end c", "end a"]);
  for (const id of "abc") assert.equal(outcomes.get(id)?.status, "ran");
});

test("a released step that then fails stops the dependents not yet started", async () => {
  const { promise: aJudged, resolve: judgedA } = Promise.withResolvers<void>();
  const outcomes = await runSchedule(chain(), {
    maxJobs: 1,
    keepGoing: true,
    succeeded: (result: { id: string; ok: boolean }) => {
      if (result.id === "a") judgedA();
      return result.ok;
    },
    run: async (s, release) => {
      if (s.drvPath === "a") {
        release(); // b starts now; a's result (a failure) comes while b runs
        return { id: "a", ok: false };
      }
      if (s.drvPath === "b") await aJudged;
      return { id: s.drvPath, ok: true };
    },
  });
  assert.deepEqual(outcomes.get("a"), { status: "ran", result: { id: "a", ok: false } });
  assert.equal(outcomes.get("b")?.status, "ran"); // already running: its own result stands
  assert.deepEqual(outcomes.get("c"), { status: "dependency-failed", failedDependency: "a" });
});

test("with prestart, a step starts while its dependency runs and goes once it is released", async () => {
  const events: string[] = [];
  const outcomes = await runSchedule(chain(), {
    maxJobs: 1,
    keepGoing: false,
    prestart: true,
    succeeded: (result: { ok: boolean }) => result.ok,
    run: async (s, release, go) => {
      events.push(`start ${s.drvPath}${go ? " (early)" : ""}`);
      if (go) events.push(`${s.drvPath}: ${(await go).status}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      release();
      events.push(`end ${s.drvPath}`);
      return { ok: true };
    },
  });
  assert.deepEqual(events, [
    "start a",
    "start b (early)",
    "end a",
    "b: go",
    "start c (early)", // once b, which may run now, has gone on
    "end b",
    "c: go",
    "end c",
  ]);
  for (const id of "abc") assert.equal(outcomes.get(id)?.status, "ran");
});

test("a prestarted step learns that its dependency failed, or that it is skipped", async () => {
  const signals: string[] = [];
  const run = async (s: Step, _release: () => void, go?: Promise<GoSignal>) => {
    if (go) {
      const signal = await go;
      signals.push(`${s.drvPath}: ${signal.status}`);
      return { ok: false };
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
    return { ok: !s.fails };
  };
  const failed = await runSchedule([step("a", [], true), step("b", ["a"])], {
    maxJobs: 1,
    keepGoing: true,
    prestart: true,
    succeeded: (result: { ok: boolean }) => result.ok,
    run,
  });
  assert.deepEqual(signals, ["b: dependency-failed"]);
  assert.equal(failed.get("b")?.status, "ran"); // its own result says so
  signals.length = 0;
  // Without keepGoing, c's failure stops everything: b's dependency a succeeds, yet b
  // must not run.
  await runSchedule([step("c", [], true), step("a"), step("b", ["a"])], {
    maxJobs: 2,
    keepGoing: false,
    prestart: true,
    succeeded: (result: { ok: boolean }) => result.ok,
    run,
  });
  assert.deepEqual(signals, ["b: skipped"]);
});

test("property: with prestart and early release, work starts only after the dependencies' release", async () => {
  await fc.assert(
    fc.asyncProperty(arbitrarySchedule(12, 3), async ({ steps, maxJobs, keepGoing }) => {
      const n = steps.length;
      let working = 0;
      const released = new Set<string>();
      const outcomes = await runSchedule(steps, {
        maxJobs,
        keepGoing,
        prestart: true,
        run: async (s, release, go) => {
          if (go !== undefined && (await go).status !== "go") return false;
          working++;
          assert.ok(working <= maxJobs, "the job limit holds");
          for (const dep of s.dependsOn) assert.ok(released.has(dep), `${s.drvPath} after ${dep}`);
          await Promise.resolve();
          working--;
          if (s.fails) return false;
          released.add(s.drvPath);
          release();
          await Promise.resolve();
          return true;
        },
        succeeded: (ok) => ok,
      });
      for (let i = 0; i < n; i++) {
        const outcome = outcomes.get(`s${i}`);
        assert.ok(outcome !== undefined);
        if (outcome.status === "ran" && outcome.result)
          assert.ok(released.has(`s${i}`), `s${i} did its work`);
      }
    }),
    { numRuns: 200 },
  );
});
