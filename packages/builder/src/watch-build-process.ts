/**
 * Follows a running builder: forwards its output to the log, enforces the total and
 * the silence timeouts and the abort signal (by calling `kill`), and resolves once the
 * process has exited and its output is drained into the log.
 */
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import type { SandboxOptions } from "./sandbox-spec.ts";

export interface BuildProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  silentTimedOut: boolean;
  aborted: boolean;
}

export interface WatchOptions
  extends Pick<SandboxOptions, "log" | "timeoutSeconds" | "maxSilentSeconds" | "signal"> {
  /** Ends the build, every process of it. Called at most once. */
  kill: () => void;
  /** Called when the process exits, before its output is drained. */
  onExit?: () => void;
  /**
   * Without a sandbox, a process that escaped the kill may still hold the output pipes
   * after the builder exits: stop waiting for end-of-file this long after the exit.
   * Not for sandboxed builds, whose pipes close once their processes are dead (and
   * where a slow log consumer may legitimately still be reading).
   */
  drainGraceMs?: number;
  /** The timeouts start counting only once this resolves (a sandbox held before its start). */
  armed?: Promise<void>;
}

/** Resolves with how the process ended; rejects when it could not be started. */
export function watchBuildProcess(
  child: ChildProcess,
  options: WatchOptions,
): Promise<BuildProcessOutcome> {
  const { log, timeoutSeconds = 0, maxSilentSeconds = 0, signal } = options;
  let timedOut = false;
  let silentTimedOut = false;
  let aborted = false;
  let stopping = false;
  let lastOutput = performance.now();
  const timers = new Set<NodeJS.Timeout>();

  const stop = (mark: () => void) => {
    if (stopping) return;
    stopping = true;
    mark();
    options.kill();
  };
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const outputs = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
  for (const stream of outputs) {
    if (typeof log === "function") {
      stream.on("data", (chunk: Buffer) => {
        lastOutput = performance.now();
        log(chunk);
      });
    } else {
      stream.on("data", () => {
        lastOutput = performance.now();
      });
      if (log !== undefined) stream.pipe(log, { end: false });
    }
  }

  let over = false;
  const arm = () => {
    if (over) return;
    lastOutput = performance.now();
    if (timeoutSeconds > 0) later(timeoutSeconds * 1000, () => stop(() => (timedOut = true)));
    if (maxSilentSeconds > 0) {
      // One timer that re-arms itself rather than a reset per output chunk.
      const check = () => {
        const idle = performance.now() - lastOutput;
        if (idle >= maxSilentSeconds * 1000) stop(() => (silentTimedOut = true));
        else later(maxSilentSeconds * 1000 - idle, check);
      };
      later(maxSilentSeconds * 1000, check);
    }
  };
  if (options.armed === undefined) arm();
  else options.armed.then(arm);
  const onAbort = () => stop(() => (aborted = true));
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();

  return new Promise((resolve, reject) => {
    const finish = () => {
      over = true;
      for (const timer of timers) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    child.once("error", (error) => {
      finish();
      reject(error);
    });
    child.once("exit", () => {
      options.onExit?.();
      const { drainGraceMs } = options;
      if (drainGraceMs === undefined) return;
      later(drainGraceMs, () => {
        for (const stream of child.stdio) stream?.destroy();
      });
    });
    child.once("close", (exitCode, exitSignal) => {
      finish();
      const outcome = { exitCode, signal: exitSignal, timedOut, silentTimedOut, aborted };
      if (log === undefined || typeof log === "function" || !log.writable) {
        resolve(outcome);
        return;
      }
      // All output has been handed to the log stream, but it may still be buffering it.
      // Writes complete in order, so the callback of an empty write means the log is
      // complete when the caller learns that the build is over.
      log.write(new Uint8Array(0), () => resolve(outcome));
    });
  });
}
