/**
 * Runs a plan's builds, each once its dependencies have succeeded, at most `maxJobs` at
 * once. After a failure, the builds that depend on it are not started ("dependency
 * failed"); with `keepGoing` the independent ones go on, otherwise no new build starts
 * and the running ones are left to finish, their results kept. Knows nothing of
 * derivations: `run` does the work, `succeeded` judges its result.
 *
 * A step may finish in two stages: it calls `release` once what its dependents need is
 * in place (a build's outputs are in the store, only their registration is left), which
 * frees its job slot and starts its dependents; its result comes later. If that result
 * then says it failed, the dependents not started yet are not started.
 *
 * With `prestart`, a step whose unfinished dependencies are all running is started
 * early (at most `maxJobs` such steps at once), with a `go` promise that says when its
 * dependencies are released: the build can set up its sandbox meanwhile, off the
 * critical path of a chain. `go` resolves with "dependency-failed" or "skipped" instead
 * when the step must not run after all; the step then still ends with a result.
 */

/** One unit of work: its id and the ids it waits for (ids not in the schedule are ready). */
export interface ScheduledStep {
  readonly drvPath: string;
  readonly dependsOn: readonly string[];
}

export type StepOutcome<R> =
  | { readonly status: "ran"; readonly result: R }
  | { readonly status: "dependency-failed"; readonly failedDependency: string }
  | { readonly status: "skipped" };

/** What a prestarted step learns when its dependencies are settled. */
export type GoSignal =
  | { readonly status: "go" }
  | { readonly status: "dependency-failed"; readonly failedDependency: string }
  | { readonly status: "skipped" };

export interface ScheduleOptions<S, R> {
  /** At least 1. */
  readonly maxJobs: number;
  readonly keepGoing: boolean;
  /**
   * Does one step. Should not reject: a rejection stops the schedule and is rethrown.
   * May call `release` early (see the header). `go` is set for prestarted steps only.
   */
  run(step: S, release: () => void, go?: Promise<GoSignal>): Promise<R>;
  succeeded(result: R): boolean;
  /** Start steps early while their dependencies run (see the header). */
  readonly prestart?: boolean;
  /** Aborting starts no new step; the running ones are the caller's to stop. */
  readonly signal?: AbortSignal;
}

interface Prestarted {
  readonly step: { readonly drvPath: string };
  readonly go: (signal: GoSignal) => void;
}

/**
 * Runs `steps` (listed dependencies first) and resolves with the outcome of each,
 * by id, once none is running.
 *
 * @example
 * const outcomes = await runSchedule(plan.builds, {
 *   maxJobs: 2, keepGoing: false,
 *   run: (build) => buildOne(build), succeeded: (result) => result.status === "built",
 * });
 */
export function runSchedule<S extends ScheduledStep, R>(
  steps: readonly S[],
  options: ScheduleOptions<S, R>,
): Promise<Map<string, StepOutcome<R>>> {
  const { maxJobs, keepGoing, signal } = options;
  if (!Number.isInteger(maxJobs) || maxJobs < 1) {
    throw new RangeError(`maxJobs must be a whole number of at least 1, not ${maxJobs}`);
  }
  const byId = new Map(steps.map((step) => [step.drvPath, step]));
  const waitingFor = new Map<string, number>();
  const dependsOn = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  const ready: S[] = [];
  for (const step of steps) {
    const deps = [...new Set(step.dependsOn)].filter((dep) => byId.has(dep));
    waitingFor.set(step.drvPath, deps.length);
    dependsOn.set(step.drvPath, deps);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [step.drvPath]);
      else list.push(step.drvPath);
    }
    if (deps.length === 0) ready.push(step);
  }

  const outcomes = new Map<string, StepOutcome<R>>();
  // Started steps, those holding a job slot (not released, not waiting), and those
  // whose result is still to come.
  const started = new Set<string>();
  const holdingSlot = new Set<string>();
  let outstanding = 0;
  // Prestarted steps still waiting for their dependencies, and those whose dependencies
  // are released but which wait for a job slot.
  const waiting = new Map<string, Prestarted>();
  const goQueue: Prestarted[] = [];
  let stopped = false;
  let prestartQueued = false;
  let internalError: { error: unknown } | undefined;

  const failDependents = (failed: string) => {
    const pending = [...(dependents.get(failed) ?? [])];
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (outcomes.has(id)) continue;
      const prestarted = waiting.get(id);
      if (prestarted !== undefined) {
        // It ends with its own "dependency failed" result.
        waiting.delete(id);
        prestarted.go({ status: "dependency-failed", failedDependency: failed });
      } else if (!started.has(id)) {
        outcomes.set(id, { status: "dependency-failed", failedDependency: failed });
      }
      pending.push(...(dependents.get(id) ?? []));
    }
  };
  const releasedIds = new Set<string>();
  const release = (done: string) => {
    releasedIds.add(done);
    for (const id of dependents.get(done) ?? []) {
      const left = waitingFor.get(id)! - 1;
      waitingFor.set(id, left);
      if (left !== 0 || outcomes.has(id)) continue;
      const prestarted = waiting.get(id);
      if (prestarted === undefined) {
        if (!started.has(id)) ready.push(byId.get(id)!);
      } else {
        waiting.delete(id);
        goQueue.push(prestarted);
      }
    }
  };
  // A step may start early when every dependency it still waits for holds a job slot.
  const prestartable = (id: string) =>
    !started.has(id) &&
    !outcomes.has(id) &&
    waitingFor.get(id)! > 0 &&
    dependsOn.get(id)!.every((dep) => releasedIds.has(dep) || holdingSlot.has(dep));

  return new Promise((resolve, reject) => {
    const pump = () => {
      if (signal?.aborted) stopped = true;
      while (goQueue.length > 0 && (stopped || holdingSlot.size < maxJobs)) {
        const prestarted = goQueue.shift()!;
        if (stopped) {
          prestarted.go({ status: "skipped" });
          continue;
        }
        holdingSlot.add(prestarted.step.drvPath);
        prestarted.go({ status: "go" });
      }
      while (!stopped && holdingSlot.size < maxJobs && ready.length > 0) {
        const step = ready.shift()!;
        if (outcomes.has(step.drvPath) || started.has(step.drvPath)) continue;
        start(step, undefined);
      }
      if (stopped) {
        for (const [id, prestarted] of waiting) {
          waiting.delete(id);
          prestarted.go({ status: "skipped" });
        }
      } else if (options.prestart && !prestartQueued) {
        // After the steps just released have gone on (their continuations are
        // microtasks): setting up a step early must not delay one that may run now.
        prestartQueued = true;
        setImmediate(() => {
          prestartQueued = false;
          if (stopped) return;
          for (const id of holdingSlot) {
            for (const dependent of dependents.get(id) ?? []) {
              if (waiting.size >= maxJobs) break;
              if (prestartable(dependent)) prestart(byId.get(dependent)!);
            }
          }
        });
      }
      if (outstanding > 0) return;
      signal?.removeEventListener("abort", pump);
      if (internalError !== undefined) {
        reject(internalError.error);
        return;
      }
      for (const step of steps) {
        if (!outcomes.has(step.drvPath)) outcomes.set(step.drvPath, { status: "skipped" });
      }
      resolve(outcomes);
    };
    const prestart = (step: S) => {
      let go!: (signal: GoSignal) => void;
      const signalled = new Promise<GoSignal>((resolveGo) => {
        go = resolveGo;
      });
      waiting.set(step.drvPath, { step, go });
      start(step, signalled);
    };
    const start = (step: S, go: Promise<GoSignal> | undefined) => {
      const id = step.drvPath;
      started.add(id);
      if (go === undefined) holdingSlot.add(id);
      outstanding++;
      let released = false;
      const releaseEarly = () => {
        if (released || outcomes.has(id) || !holdingSlot.has(id)) return;
        released = true;
        holdingSlot.delete(id);
        release(id);
        // Not from inside run(): the caller of release must not see new steps start under it.
        queueMicrotask(pump);
      };
      let outcome: Promise<R>;
      try {
        outcome = options.run(step, releaseEarly, go);
      } catch (error) {
        outcome = Promise.reject(error);
      }
      outcome
        .then(
          (result) => {
            outcomes.set(id, { status: "ran", result });
            if (options.succeeded(result)) {
              if (!released) release(id);
            } else {
              failDependents(id);
              if (!keepGoing) stopped = true;
            }
          },
          (error: unknown) => {
            internalError ??= { error };
            stopped = true;
          },
        )
        .finally(() => {
          holdingSlot.delete(id);
          released = true;
          const stillWaiting = waiting.get(id);
          if (stillWaiting !== undefined) {
            // Ended before its dependencies did (it failed to set up): nothing to signal.
            waiting.delete(id);
          }
          outstanding--;
          pump();
        });
    };
    signal?.addEventListener("abort", pump, { once: true });
    pump();
  });
}
