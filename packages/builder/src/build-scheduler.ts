/**
 * Runs a plan's builds, each once its dependencies have succeeded, at most `maxJobs` at
 * once. After a failure, the builds that depend on it are not started ("dependency
 * failed"); with `keepGoing` the independent ones go on, otherwise no new build starts
 * and the running ones are left to finish, their results kept. Knows nothing of
 * derivations: `run` does the work, `succeeded` judges its result.
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

export interface ScheduleOptions<S, R> {
  /** At least 1. */
  readonly maxJobs: number;
  readonly keepGoing: boolean;
  /** Does one step. Should not reject: a rejection stops the schedule and is rethrown. */
  run(step: S): Promise<R>;
  succeeded(result: R): boolean;
  /** Aborting starts no new step; the running ones are the caller's to stop. */
  readonly signal?: AbortSignal;
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
  const dependents = new Map<string, string[]>();
  const ready: S[] = [];
  for (const step of steps) {
    const deps = [...new Set(step.dependsOn)].filter((dep) => byId.has(dep));
    waitingFor.set(step.drvPath, deps.length);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [step.drvPath]);
      else list.push(step.drvPath);
    }
    if (deps.length === 0) ready.push(step);
  }

  const outcomes = new Map<string, StepOutcome<R>>();
  let running = 0;
  let stopped = false;
  let internalError: { error: unknown } | undefined;

  const failDependents = (failed: string) => {
    const pending = [...(dependents.get(failed) ?? [])];
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (outcomes.has(id)) continue;
      outcomes.set(id, { status: "dependency-failed", failedDependency: failed });
      pending.push(...(dependents.get(id) ?? []));
    }
  };
  const release = (done: string) => {
    for (const id of dependents.get(done) ?? []) {
      const left = waitingFor.get(id)! - 1;
      waitingFor.set(id, left);
      if (left === 0 && !outcomes.has(id)) ready.push(byId.get(id)!);
    }
  };

  return new Promise((resolve, reject) => {
    const pump = () => {
      if (signal?.aborted) stopped = true;
      while (!stopped && running < maxJobs && ready.length > 0) {
        const step = ready.shift()!;
        if (outcomes.has(step.drvPath)) continue;
        start(step);
      }
      if (running > 0) return;
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
    const start = (step: S) => {
      running++;
      let outcome: Promise<R>;
      try {
        outcome = options.run(step);
      } catch (error) {
        outcome = Promise.reject(error);
      }
      outcome
        .then(
          (result) => {
            outcomes.set(step.drvPath, { status: "ran", result });
            if (options.succeeded(result)) release(step.drvPath);
            else {
              failDependents(step.drvPath);
              if (!keepGoing) stopped = true;
            }
          },
          (error: unknown) => {
            internalError ??= { error };
            stopped = true;
          },
        )
        .finally(() => {
          running--;
          pump();
        });
    };
    signal?.addEventListener("abort", pump, { once: true });
    pump();
  });
}
