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
import { lchownSync, lstatSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { BuildUser } from "./build-users.ts";
import { BuilderError } from "./builder-error.ts";
import { bwrapArguments, ETC_FILES } from "./bwrap-arguments.ts";
import { removeTree } from "./remove-tree.ts";
import { resolveSandboxInputs } from "./resolve-sandbox-inputs.ts";
import { defaultBwrap, runBwrap, signalProcess } from "./run-bwrap.ts";
import { runHeldBwrap } from "./run-held-bwrap.ts";
import { sandboxEtcFiles } from "./sandbox-etc-files.ts";
import { type SandboxLayout, sandboxLayout } from "./sandbox-layout.ts";
import type { SandboxOptions, SandboxResult, SandboxSpec } from "./sandbox-spec.ts";
import { prepareSandboxStoreDir } from "./sandbox-store-dir.ts";
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
  const { startWhen } = options;
  if (startWhen !== undefined && (spec.disableChroot === true || process.getuid?.() !== 0)) {
    // Inputs that come late could only be bound, which bwrap does before it waits: so
    // the sandbox is set up once they are known.
    const late = await startWhen;
    if (late === undefined) return notStarted(options);
    const all = { ...spec, inputs: [...spec.inputs, ...late] };
    return runInSandbox(all, { ...options, startWhen: undefined });
  }
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
  const { inputs, wanted } = isolated
    ? resolveSandboxInputs(spec.inputs, { copyFiles: daemon.uid === 0 })
    : { inputs: [], wanted: new Map() };
  const ids = user ?? daemon;
  const reuse = options.reuseScratch;
  createLayout(layout, { scratchDir, user, isolated, reuse: reuse !== undefined });
  let storeEntries = isolated
    ? prepareSandboxStoreDir(layout.hostStoreDir, wanted, reuse, {
        keepUnwanted: startWhen !== undefined,
      })
    : undefined;
  writeBuildTreeFiles(layout, spec.buildTreeFiles, user);
  const topStamp = spec.buildTreeFiles?.size ? undefined : changeTime(layout.hostBuildTop);

  let outcome: BuildProcessOutcome;
  const warnings: string[] = [];
  let started = true;
  try {
    if (isolated && startWhen !== undefined) {
      const held = await runHeldBwrap(spec, options, { layout, inputs, ids, startWhen });
      if (held.fallback !== undefined) {
        // A late input must be bound: start again, in the same directory, with all of them.
        if (user !== undefined) lchownSync(layout.hostPrivateDir, daemon.uid, daemon.gid);
        removeTree(layout.hostBuildTop);
        const all = { ...spec, inputs: [...spec.inputs, ...held.fallback] };
        return await runInSandbox(all, {
          ...options,
          startWhen: undefined,
          ...(storeEntries === undefined ? {} : { reuseScratch: storeEntries }),
        });
      }
      if (held.late !== undefined) {
        // Now exactly the whole closure: the late inputs copied in, the rest removed.
        const all = new Map([...wanted, ...held.late]);
        storeEntries = prepareSandboxStoreDir(layout.hostStoreDir, all, storeEntries);
      }
      started = held.started;
      outcome = await held.outcome();
    } else if (isolated) {
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
  const keep = failed && started && options.keepFailed === true;
  // A build tree the build did not touch (same change time: nothing created, removed,
  // chmod'ed or given an ACL) stays for the next build of a pooled scratch directory.
  if (!keep && !(options.pooled === true && changeTime(layout.hostBuildTop) === topStamp))
    removeTree(layout.hostBuildTop);
  const outputs = new Map<string, string>();
  for (const output of spec.outputs) {
    const hostPath = isolated ? join(layout.hostStoreDir, basename(output)) : output;
    if (existsLink(hostPath)) outputs.set(output, hostPath);
  }
  return {
    ...outcome,
    outputs,
    ...(keep ? { buildTreeKept: layout.hostBuildTop } : {}),
    ...(storeEntries === undefined ? {} : { storeEntries }),
    ...(started ? {} : { notStarted: true }),
    warnings,
  };
}

/** The result when `startWhen` said not to start, before anything was set up. */
function notStarted(options: SandboxOptions): SandboxResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    silentTimedOut: false,
    aborted: true,
    notStarted: true,
    outputs: new Map(),
    ...(options.reuseScratch === undefined ? {} : { storeEntries: options.reuseScratch }),
    warnings: [],
  };
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
  options: {
    scratchDir: string;
    user: BuildUser | undefined;
    isolated: boolean;
    reuse: boolean;
  },
): void {
  const { user, isolated } = options;
  if (options.reuse) {
    // Left by an earlier build of this process (see ScratchPool): the private directory,
    // the store directory (prepareSandboxStoreDir sorts out what it holds), and the
    // build tree if that build left it untouched (see runInSandbox).
    if (changeTime(layout.hostBuildTop) === undefined)
      mkdirSync(layout.hostBuildTop, { mode: 0o700 });
  } else {
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
  }
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

/** Files the build finds in its build tree (passAsFile, exportReferencesGraph). */
function writeBuildTreeFiles(
  layout: SandboxLayout,
  files: SandboxSpec["buildTreeFiles"],
  user: BuildUser | undefined,
): void {
  for (const [name, contents] of files ?? []) {
    if (name === "" || name.includes("/") || name === "." || name === "..") {
      throw new BuilderError(
        "ERR_SANDBOX_SETUP",
        `cannot write ${JSON.stringify(name)} into the build tree`,
      );
    }
    const path = join(layout.hostBuildTop, name);
    writeFileSync(path, contents, { flag: "wx", mode: 0o644 });
    if (user !== undefined) lchownSync(path, user.uid, user.gid);
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

/** The change time of `path` in nanoseconds, undefined when it does not exist. */
function changeTime(path: string): bigint | undefined {
  try {
    return lstatSync(path, { bigint: true }).ctimeNs;
  } catch {
    return undefined;
  }
}

function existsLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
