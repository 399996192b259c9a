/**
 * Runs one build in a bubblewrap sandbox: new user, mount, PID, IPC, UTS, cgroup and
 * (unless fixed-output) network namespaces; only the input closure visible under the
 * store directory, read-only; the build tree at /tmp/kiln-build-NAME.drv-0.
 *
 * With a build user (daemon running as root), bwrap itself is started as that user, so
 * the user namespace belongs to it and the host sees the build's processes and files
 * as that uid. Without one, bwrap runs as the daemon's user: builds are still isolated
 * by unprivileged user namespaces.
 *
 * For the caller: outputs are left in the sandbox's store directory (`outputs` maps
 * them). Every process of the build is dead when runInSandbox returns, so nothing can
 * write to them any more through a descriptor it kept; but a fixed-output build shares
 * the host network, so it could have passed a descriptor of its output to a process
 * outside (over an abstract Unix socket) — the class of CVE-2024-27297. Therefore the
 * caller must COPY, not rename, the output of a fixed-output build into the store, and
 * hash the copy.
 */
import { spawn } from "node:child_process";
import { existsSync, lchownSync, lstatSync, mkdirSync, readlinkSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import type { BuildUser } from "./build-users.ts";
import { BuilderError } from "./builder-error.ts";
import { bwrapArguments, ETC_FILES, INFO_FD, type ResolvedInput } from "./bwrap-arguments.ts";
import { removeTree } from "./remove-tree.ts";
import { sandboxEtcFiles } from "./sandbox-etc-files.ts";
import { type SandboxLayout, sandboxLayout } from "./sandbox-layout.ts";
import type { SandboxOptions, SandboxResult, SandboxSpec } from "./sandbox-spec.ts";
import { type BuildProcessOutcome, watchBuildProcess } from "./watch-build-process.ts";

/**
 * Runs `spec.builder` with `spec.args` and `spec.env` in a fresh sandbox under
 * `options.scratchDir`, and resolves once it has ended and every process it started is
 * dead. A failing builder is not an error (see `exitCode`); setting up the sandbox is
 * (BuilderError `ERR_SANDBOX_SETUP`).
 *
 * @example
 * const result = await runInSandbox(
 *   { storeDir: "/gnu/store", inputs, outputs: [out], builder, args: ["-e", "builder.sh"],
 *     env, drvName: "hello-2.12", network: false },
 *   { scratchDir: "/var/kiln/builds/42", log: (chunk) => logFile.write(chunk), maxSilentSeconds: 3600 },
 * );
 * if (result.exitCode === 0) copyOrMove(result.outputs.get(out));
 */
export async function runInSandbox(
  spec: SandboxSpec,
  options: SandboxOptions,
): Promise<SandboxResult> {
  options.signal?.throwIfAborted();
  const scratchDir = resolve(options.scratchDir);
  const layout = sandboxLayout(scratchDir, spec.drvName);
  const daemon = { uid: process.getuid!(), gid: process.getgid!() };
  const user = spec.buildUser;
  if (user !== undefined && daemon.uid !== 0) {
    throw new BuilderError("ERR_SANDBOX_SETUP", "build users need the daemon to run as root", {
      hint: "without root, builds are isolated by unprivileged user namespaces; drop the build users group",
    });
  }
  checkStorePaths(spec);
  const isolated = spec.disableChroot !== true;
  const inputs = isolated ? resolveInputs(spec.inputs) : [];
  const ids = user ?? daemon;
  createLayout(layout, { scratchDir, user, isolated });

  let outcome: BuildProcessOutcome;
  const warnings: string[] = [];
  try {
    if (isolated) {
      const bwrap = options.bwrap ?? defaultBwrap();
      const etcFiles = sandboxEtcFiles({ ...ids, network: spec.network });
      const args = bwrapArguments(spec, { layout, inputs, etcFiles, uid: ids.uid, gid: ids.gid });
      const files = ETC_FILES.flatMap((name) => etcFiles[name] ?? []);
      outcome = await runBwrap({ bwrap, args, files }, spec, options);
    } else {
      warnings.push(
        `build of ${spec.drvName} ran without isolation (--disable-chroot): it could read ` +
          "the host's files and network and interfere with other builds",
      );
      outcome = await runUnisolated(spec, layout, options);
    }
  } finally {
    // From here on only the daemon can reach the build tree: a kept failed tree cannot
    // be read by other users, nor entered by a later build under the same build user.
    if (user !== undefined) lchownSync(layout.hostPrivateDir, daemon.uid, daemon.gid);
  }

  const failed =
    outcome.exitCode !== 0 || outcome.timedOut || outcome.silentTimedOut || outcome.aborted;
  const keep = failed && options.keepFailed === true;
  if (!keep) removeTree(layout.hostBuildTop);
  const outputs = new Map<string, string>();
  for (const output of spec.outputs) {
    const hostPath = isolated ? join(layout.hostStoreDir, basename(output)) : output;
    if (existsLink(hostPath)) outputs.set(output, hostPath);
  }
  return {
    ...outcome,
    outputs,
    ...(keep ? { buildTreeKept: layout.hostBuildTop } : {}),
    warnings,
  };
}

function runBwrap(
  command: { bwrap: string; args: string[]; files: string[] },
  spec: SandboxSpec,
  options: SandboxOptions,
): Promise<BuildProcessOutcome> {
  const { bwrap, args, files } = command;
  const user = spec.buildUser;
  const child = spawn(bwrap, args, {
    env: spec.env,
    cwd: "/",
    // 0-2 as usual, INFO_FD for bwrap's report, then one per /etc file.
    stdio: ["ignore", "pipe", "pipe", "pipe", ...files.map(() => "pipe" as const)],
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

function runUnisolated(
  spec: SandboxSpec,
  layout: SandboxLayout,
  options: SandboxOptions,
): Promise<BuildProcessOutcome> {
  const user = spec.buildUser;
  const child = spawn(spec.builder, spec.args, {
    env: spec.env,
    cwd: layout.hostBuildTop,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
  });
  // Without a PID namespace the best we can do is the builder's process group;
  // processes that start their own session escape it.
  const killGroup = () => {
    if (child.pid !== undefined) signalProcess(-child.pid);
  };
  const watch = { ...options, kill: killGroup, onExit: killGroup, drainGraceMs: 1000 };
  return watchBuildProcess(child, watch).catch((error: unknown) => {
    throw new BuilderError("ERR_SANDBOX_SETUP", `cannot start ${spec.builder}: ${String(error)}`, {
      cause: error,
    });
  });
}

function createLayout(
  layout: SandboxLayout,
  options: { scratchDir: string; user: BuildUser | undefined; isolated: boolean },
): void {
  const { user, isolated } = options;
  mkdirSync(options.scratchDir, { recursive: true });
  if (user !== undefined) assertSearchable(options.scratchDir, user);
  try {
    mkdirSync(layout.hostPrivateDir, { mode: 0o700 });
  } catch (error) {
    throw new BuilderError(
      "ERR_SANDBOX_SETUP",
      `cannot create ${layout.hostPrivateDir}: ${(error as Error).message}`,
      { cause: error, hint: "give each build a fresh scratch directory" },
    );
  }
  mkdirSync(layout.hostBuildTop, { mode: 0o700 });
  if (isolated) mkdirSync(layout.hostStoreDir, { mode: 0o755 });
  if (user !== undefined) {
    // bwrap runs as the build user and must reach these by path: bwrap 0.8 resolves
    // bind sources with realpath(), so passing descriptors would not get it through a
    // root-only directory. The private directory goes back to the daemon's user after
    // the build (see runInSandbox).
    lchownSync(layout.hostPrivateDir, user.uid, user.gid);
    lchownSync(layout.hostBuildTop, user.uid, user.gid);
    if (isolated) lchownSync(layout.hostStoreDir, user.uid, user.gid);
  }
}

function checkStorePaths(spec: SandboxSpec): void {
  const paths = [...spec.inputs.map((input) => input.path), ...spec.outputs];
  for (const path of paths) {
    if (dirname(path) !== spec.storeDir || basename(path).startsWith(".")) {
      throw new BuilderError(
        "ERR_SANDBOX_SETUP",
        `${path} is not a store path directly under ${spec.storeDir}`,
      );
    }
  }
}

function resolveInputs(inputs: SandboxSpec["inputs"]): ResolvedInput[] {
  return inputs.map((input) => {
    let isSymlink: boolean;
    try {
      isSymlink = lstatSync(input.realPath).isSymbolicLink();
    } catch (error) {
      throw new BuilderError(
        "ERR_SANDBOX_SETUP",
        `input ${input.path} is missing at ${input.realPath}`,
        { cause: error },
      );
    }
    // A bind mount would follow a symlink; the build must see the link itself.
    return isSymlink
      ? { path: input.path, symlink: readlinkSync(input.realPath) }
      : { path: input.path, realPath: input.realPath };
  });
}

/** bwrap runs as the build user, so every ancestor of the scratch directory must let it through. */
function assertSearchable(dir: string, user: BuildUser): void {
  for (let path = dir; ; path = dirname(path)) {
    const { mode, uid, gid } = statSync(path);
    const searchable =
      (mode & 0o001) !== 0 ||
      (gid === user.gid && (mode & 0o010) !== 0) ||
      (uid === user.uid && (mode & 0o100) !== 0);
    if (!searchable) {
      throw new BuilderError(
        "ERR_SANDBOX_SETUP",
        `build user ${user.name} cannot reach ${dir}: ${path} is not searchable by it`,
        { hint: `make ${path} searchable (chmod o+x), or use another scratch directory` },
      );
    }
    if (path === "/") return;
  }
}

let bwrapPath: string | undefined;

function defaultBwrap(): string {
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

function existsLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function signalProcess(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
