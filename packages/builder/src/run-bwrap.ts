/**
 * Starts bwrap for a sandbox (its arguments made by bwrapArguments) and follows it until
 * every process of the build is dead: the /etc files and the release byte go through
 * pipes, bwrap's report gives the pid of the sandbox's first process, which is the one
 * to kill (the kernel then kills the rest before bwrap sees it exit).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { BuilderError } from "./builder-error.ts";
import { INFO_FD } from "./bwrap-arguments.ts";
import type { SandboxOptions, SandboxSpec } from "./sandbox-spec.ts";
import { type BuildProcessOutcome, watchBuildProcess } from "./watch-build-process.ts";

/**
 * Runs bwrap with `args`, handing it `files` on the descriptors after INFO_FD; with
 * `released`, bwrap was given `--block-fd` on the next one and starts the builder once
 * `released` resolves (the timeouts count from then). Rejects only when bwrap cannot be
 * started.
 *
 * @example
 * const outcome = await runBwrap({ bwrap: defaultBwrap(), args, files }, spec, options);
 */
export function runBwrap(
  command: { bwrap: string; args: string[]; files: string[]; released?: Promise<void> },
  spec: SandboxSpec,
  options: SandboxOptions,
): Promise<BuildProcessOutcome> {
  const { bwrap, args, files, released } = command;
  const user = spec.buildUser;
  const held = released === undefined ? [] : ["pipe" as const];
  const child = spawn(bwrap, args, {
    env: spec.env,
    cwd: "/",
    // 0-2 as usual, INFO_FD for bwrap's report, one per /etc file, then the block fd.
    stdio: ["ignore", "pipe", "pipe", "pipe", ...files.map(() => "pipe" as const), ...held],
    detached: true,
    ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
  });
  // A few hundred bytes each: they fit in the socket buffer, so this never waits for bwrap.
  // If bwrap fails before reading them, it says why on stderr (the log); the EPIPE here
  // adds nothing.
  for (const [i, text] of files.entries()) {
    const pipe = child.stdio[INFO_FD + 1 + i] as Writable | null;
    pipe?.on("error", () => {});
    pipe?.end(text);
  }
  if (released !== undefined) {
    // bwrap waits for one byte here with everything set up, then starts the builder.
    const block = child.stdio[INFO_FD + 1 + files.length] as Writable | null;
    block?.on("error", () => {});
    released.then(() => block?.end("x"));
  }
  // Killing the sandbox's PID 1 (the builder) makes the kernel kill the rest of the
  // sandbox before bwrap sees it exit, so 'close' comes only once all are dead. Killing
  // bwrap instead would let it exit first.
  let initPid: number | undefined;
  let killRequested = false;
  let exited = false;
  let info = "";
  (child.stdio[INFO_FD] as Readable).on("data", (chunk: Buffer) => {
    info += chunk.toString();
    const match = /"child-pid"\s*:\s*(\d+)/.exec(info);
    if (match !== null && initPid === undefined) {
      initPid = Number(match[1]);
      if (killRequested && !exited) signalProcess(initPid);
    }
  });
  return watchBuildProcess(child, {
    ...options,
    ...(released === undefined ? {} : { armed: released }),
    kill: () => {
      killRequested = true;
      if (initPid !== undefined) {
        signalProcess(initPid);
        return;
      }
      // bwrap reports the pid right after creating the namespaces; if it never does,
      // it is stuck before starting the builder, and killing its group is enough.
      setTimeout(() => {
        if (initPid === undefined && !exited && child.pid !== undefined) signalProcess(-child.pid);
      }, 1000).unref();
    },
    onExit: () => {
      exited = true;
    },
  }).catch((error: unknown) => {
    throw new BuilderError("ERR_SANDBOX_SETUP", `cannot start ${bwrap}: ${String(error)}`, {
      cause: error,
      hint: "install bubblewrap (bwrap), or run with --disable-chroot",
    });
  });
}

/** SIGKILL, ignoring a process that is already gone. */
export function signalProcess(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

let bwrapPath: string | undefined;

/** The bwrap of this machine, looked up once in the usual system directories. */
export function defaultBwrap(): string {
  if (bwrapPath !== undefined) return bwrapPath;
  // The builder's environment (PATH=/path-not-set) is what spawn searches, so bwrap
  // needs an absolute path; the daemon's own PATH is not read below the edge.
  const candidates = [
    "/usr/bin/bwrap",
    "/bin/bwrap",
    "/usr/local/bin/bwrap",
    "/run/current-system/profile/bin/bwrap",
  ];
  bwrapPath = candidates.find((path) => existsSync(path));
  if (bwrapPath === undefined) {
    throw new BuilderError("ERR_SANDBOX_SETUP", "bubblewrap (bwrap) is not installed", {
      hint: "install bubblewrap, pass its path, or run with --disable-chroot",
    });
  }
  return bwrapPath;
}
