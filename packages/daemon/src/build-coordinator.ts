/**
 * Builds on behalf of many clients at once. Each request is planned (which derivations
 * it needs built, dependencies first); each planned derivation becomes a job shared by
 * every request that needs it, so two clients asking for the same derivation share one
 * build and both see its log. A job runs once its dependencies' jobs succeeded and a
 * build slot is free (`--max-jobs` across the whole daemon). A client that disconnects
 * leaves its jobs; a job nobody waits for any more is stopped (the builder kills it and
 * registers nothing), but one another client waits for goes on.
 */

import { buildResultSummary } from "@kiln/builder/build-derivations";
import type { BuildReporter, BuildResult, BuildStore } from "@kiln/builder/build-options";
import { BuilderError } from "@kiln/builder/builder-error";
import type { Derivation } from "@kiln/formats/derivation";
import {
  buildBasicDerivation,
  buildOneDerivation,
  type OneBuildOptions,
  planDaemonBuilds,
} from "./builder-adapter.ts";
import { DaemonError } from "./daemon-error.ts";
import { JobSlots } from "./job-slots.ts";

/** One client operation waiting for builds; its reporter shows them to that client. */
export interface BuildRequester {
  readonly reporter: BuildReporter;
}

/** Per-request settings (the client's), on top of the daemon's defaults. */
export type RealiseOptions = Pick<
  OneBuildOptions,
  "check" | "keepFailed" | "timeout" | "maxSilentTime" | "cores" | "disableChroot"
> & { readonly keepGoing?: boolean };

export interface BuildCoordinatorOptions {
  /** Builds at once across all clients; default 1. */
  readonly maxJobs?: number;
  /** Settings of every build (chroot directories, build users, system, logger, …). */
  readonly defaults?: OneBuildOptions;
}

interface Job {
  readonly drvPath: string;
  readonly derivation: Derivation;
  readonly waiters: Set<BuildRequester>;
  readonly controller: AbortController;
  promise: Promise<BuildResult>;
  /** Set once the builder started it, so that a client joining later is told. */
  name?: string;
}

const FAILED = new Set<BuildResult["status"]>(["failed", "dependency-failed", "skipped"]);

export class BuildCoordinator {
  readonly #store: BuildStore;
  readonly #slots: JobSlots;
  readonly #defaults: OneBuildOptions;
  readonly #jobs = new Map<string, Job>();
  #closed = false;

  constructor(store: BuildStore, options: BuildCoordinatorOptions = {}) {
    this.#store = store;
    this.#slots = new JobSlots(Math.max(1, options.maxJobs ?? 1));
    this.#defaults = options.defaults ?? {};
  }

  /** Derivations being built or waiting to be. */
  get pending(): number {
    return this.#jobs.size;
  }

  /**
   * Builds what `drvPaths` (valid `.drv` store paths) need. Resolves with one result per
   * planned build, then one per requested derivation that was valid already; failed
   * builds are results. Rejects for bad requests (unreadable derivations, missing
   * sources) before anything is built.
   */
  async realise(
    drvPaths: readonly string[],
    requester: BuildRequester,
    options: RealiseOptions = {},
  ): Promise<BuildResult[]> {
    this.#checkOpen();
    const plan = planDaemonBuilds(this.#store, drvPaths, { check: options.check });
    const missing = plan.missingSources[0];
    if (missing !== undefined) {
      throw new BuilderError(
        "ERR_MISSING_INPUT",
        `input ${missing.path} of ${missing.drvPath} is not valid`,
        { hint: "add it to the store first" },
      );
    }
    requester.reporter.planned(plan.builds.length);
    const requested = new Set(drvPaths);
    const promises = new Map<string, Promise<BuildResult>>();
    for (const build of plan.builds) {
      const dependencies = build.dependsOn.map((dep) => promises.get(dep)!);
      const job = this.#join(build.drvPath, build.derivation, requester, (created) =>
        this.#runWhenReady(created, dependencies, (signal, reporter) =>
          buildOneDerivation(this.#store, build.drvPath, {
            ...this.#defaults,
            ...options,
            check: build.check,
            signal,
            reporter,
          }),
        ),
      );
      promises.set(build.drvPath, job.promise);
    }
    const settled = await this.#settle(promises, requester, options.keepGoing === true);
    // Builds left unfinished after a failure: those that needed a failed one say so.
    for (const build of plan.builds) {
      if (settled.has(build.drvPath)) continue;
      const failed = build.dependsOn.find((dep) => FAILED.has(settled.get(dep)?.status ?? "built"));
      settled.set(
        build.drvPath,
        failed === undefined
          ? buildResultSummary(build.drvPath, build.derivation, false, "skipped")
          : dependencyFailed(build.drvPath, build.derivation, failed),
      );
    }
    const results = plan.builds.map((build) => ({
      ...settled.get(build.drvPath)!,
      requested: requested.has(build.drvPath),
    }));
    for (const { drvPath, derivation } of plan.valid) {
      results.push({
        ...buildResultSummary(drvPath, derivation, false, "already-valid"),
        requested: true,
      });
    }
    return results;
  }

  /** Builds a derivation sent by a client (BuildDerivation), sharing a job for the same path. */
  async buildBasic(
    drvPath: string,
    derivation: Derivation,
    requester: BuildRequester,
    options: RealiseOptions = {},
  ): Promise<BuildResult> {
    this.#checkOpen();
    const outputs = [...derivation.outputs.values()].map((output) => output.path);
    if (!options.check && outputs.every((path) => this.#store.db.isValidPath(path))) {
      return {
        ...buildResultSummary(drvPath, derivation, false, "already-valid"),
        requested: true,
      };
    }
    requester.reporter.planned(1);
    const job = this.#join(drvPath, derivation, requester, (created) =>
      this.#runWhenReady(created, [], (signal, reporter) =>
        buildBasicDerivation(this.#store, drvPath, derivation, {
          ...this.#defaults,
          ...options,
          signal,
          reporter,
        }),
      ),
    );
    return { ...(await job.promise), requested: true };
  }

  /** The client behind `requester` is gone: it waits for nothing any more. */
  leave(requester: BuildRequester): void {
    for (const job of this.#jobs.values()) this.#leaveJob(job, requester);
  }

  /** Stops every build and waits until none runs (daemon shutdown). */
  async shutdown(): Promise<void> {
    this.#closed = true;
    const jobs = [...this.#jobs.values()];
    for (const job of jobs) job.controller.abort(new DaemonError("SHUTTING_DOWN", "shutting down"));
    await Promise.allSettled(jobs.map((job) => job.promise));
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new DaemonError("SHUTTING_DOWN", "the daemon is shutting down; no new builds start");
    }
  }

  #leaveJob(job: Job, requester: BuildRequester): void {
    if (job.waiters.delete(requester) && job.waiters.size === 0) {
      job.controller.abort(new DaemonError("ABANDONED", `nobody waits for ${job.drvPath}`));
    }
  }

  /** The job for `drvPath`, joined by `requester`; created (and started) when there is none. */
  #join(
    drvPath: string,
    derivation: Derivation,
    requester: BuildRequester,
    start: (job: Job) => Promise<BuildResult>,
  ): Job {
    const existing = this.#jobs.get(drvPath);
    if (existing !== undefined) {
      existing.waiters.add(requester);
      if (existing.name !== undefined)
        safely(() => requester.reporter.started(drvPath, existing.name!));
      return existing;
    }
    const job: Job = {
      drvPath,
      derivation,
      waiters: new Set([requester]),
      controller: new AbortController(),
      promise: Promise.resolve(undefined as never),
    };
    this.#jobs.set(drvPath, job);
    job.promise = start(job).finally(() => {
      if (this.#jobs.get(drvPath) === job) this.#jobs.delete(drvPath);
    });
    return job;
  }

  async #runWhenReady(
    job: Job,
    dependencies: readonly Promise<BuildResult>[],
    run: (signal: AbortSignal, reporter: BuildReporter) => Promise<BuildResult>,
  ): Promise<BuildResult> {
    const { drvPath, derivation, controller } = job;
    const finish = (result: BuildResult) => {
      for (const waiter of job.waiters) safely(() => waiter.reporter.finished(result));
      return result;
    };
    for (const dependency of dependencies) {
      const result = await dependency;
      if (FAILED.has(result.status)) {
        return finish(dependencyFailed(drvPath, derivation, result.drvPath));
      }
    }
    let release: () => void;
    try {
      release = await this.#slots.acquire(controller.signal);
    } catch {
      return finish(buildResultSummary(drvPath, derivation, false, "skipped"));
    }
    try {
      if (controller.signal.aborted)
        return finish(buildResultSummary(drvPath, derivation, false, "skipped"));
      return await run(controller.signal, this.#fanout(job));
    } catch (error) {
      return finish({
        ...buildResultSummary(drvPath, derivation, false, "failed"),
        error:
          error instanceof BuilderError
            ? error
            : new BuilderError("ERR_BUILD_FAILED", `building ${drvPath} failed: ${String(error)}`, {
                cause: error,
              }),
      });
    } finally {
      release();
    }
  }

  /** The reporter the builder sees: every event goes to every client waiting for the job. */
  #fanout(job: Job): BuildReporter {
    const each = (event: (reporter: BuildReporter) => void) => {
      for (const waiter of job.waiters) safely(() => event(waiter.reporter));
    };
    return {
      planned: () => {},
      started: (drvPath, name) => {
        job.name = name;
        each((reporter) => reporter.started(drvPath, name));
      },
      output: (drvPath, chunk) => each((reporter) => reporter.output(drvPath, chunk)),
      finished: (result) => each((reporter) => reporter.finished(result)),
      warning: (message) => each((reporter) => reporter.warning(message)),
    };
  }

  /**
   * Waits for the request's jobs. Without keepGoing, the first failure ends the wait: the
   * request leaves its other jobs (stopping those nobody else needs).
   */
  async #settle(
    promises: ReadonlyMap<string, Promise<BuildResult>>,
    requester: BuildRequester,
    keepGoing: boolean,
  ): Promise<Map<string, BuildResult>> {
    const settled = new Map<string, BuildResult>();
    if (promises.size === 0) return settled;
    await new Promise<void>((resolve) => {
      let left = promises.size;
      for (const [drvPath, promise] of promises) {
        promise.then((result) => {
          settled.set(drvPath, result);
          if ((!keepGoing && FAILED.has(result.status)) || --left === 0) resolve();
        });
      }
    });
    if (settled.size < promises.size) {
      for (const drvPath of promises.keys()) {
        const job = this.#jobs.get(drvPath);
        if (job !== undefined && !settled.has(drvPath)) this.#leaveJob(job, requester);
      }
    }
    return settled;
  }
}

function dependencyFailed(
  drvPath: string,
  derivation: Derivation,
  dependency: string,
): BuildResult {
  return {
    ...buildResultSummary(drvPath, derivation, false, "dependency-failed"),
    failedDependency: dependency,
    error: new BuilderError(
      "ERR_DEPENDENCY_FAILED",
      `cannot build ${drvPath}: its dependency ${dependency} failed`,
    ),
  };
}

/** A client's reporter failing (its socket is gone) must not break a shared build. */
function safely(event: () => void): void {
  try {
    event();
  } catch {
    // The client is leaving; its connection's close handler removes it.
  }
}
