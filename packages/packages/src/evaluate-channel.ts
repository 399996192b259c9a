/**
 * Evaluating a channel in a separate, sandboxed process: Node's permission model (read
 * only the channel and Kiln's own code, write only a scratch directory, no child
 * processes), a network namespace of its own (bubblewrap, when installed), a time limit
 * per module and a heap limit. A module that fails — throws, reads a forbidden file, loops
 * or allocates without bound — is reported as an error naming it; the others still
 * evaluate (a killed evaluator is restarted after the module it was running).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readChannelManifest } from "./load-channel.ts";
import type { PackageSummary } from "./package-summary.ts";

/** A lint warning the evaluator reports for one of its packages. */
export interface EvaluatedWarning {
  readonly checker: string;
  readonly message: string;
}

/** A package as the evaluator reports it: its summary, and what was asked of it. */
export interface EvaluatedPackage extends PackageSummary {
  /** The module (relative to the channel directory) that exports it. */
  readonly module: string;
  /** The `.drv` path for `system` (computed, not written); absent when unsupported or not asked. */
  readonly drvPath?: string;
  /** With `lint`: the warnings of those checkers, in their order. */
  readonly warnings?: readonly EvaluatedWarning[];
}

export interface EvaluationError {
  readonly module: string;
  readonly message: string;
}

export interface EvaluateOptions {
  /** The system to lower every package for (`drvPath`); without it, nothing is lowered. */
  readonly system?: string;
  /** Lint checkers to run on every package, in this order (see lintCheckerNames). */
  readonly lint?: readonly string[];
  readonly storeDir?: string;
  /** Milliseconds one module may take; 10 s by default. */
  readonly moduleTimeoutMs?: number;
  /** Heap limit of the evaluator in MiB; 256 by default. */
  readonly maxMemoryMb?: number;
  /** Run the evaluator in its own network namespace with bubblewrap (default: when installed). */
  readonly bwrap?: string | false;
}

const CHILD = fileURLToPath(new URL("./evaluate-channel-child.ts", import.meta.url));
/** Kiln's code (packages/*, node_modules): the evaluator may read it to import @kiln/packages. */
const REPO = resolve(dirname(CHILD), "../../..");

function defaultBwrap(): string | false {
  for (const path of ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"])
    if (existsSync(path)) return path;
  return false;
}

interface RunResult {
  readonly events: Record<string, unknown>[];
  readonly reason: string | undefined;
}

function runEvaluator(
  dir: string,
  modules: readonly string[],
  options: EvaluateOptions,
  scratch: string,
): Promise<RunResult> {
  const node = process.execPath;
  const nodeArgs = [
    "--permission",
    `--allow-fs-read=${dir}`,
    `--allow-fs-read=${REPO}`,
    `--allow-fs-read=${dirname(dirname(node))}`,
    `--allow-fs-write=${scratch}`,
    `--max-old-space-size=${options.maxMemoryMb ?? 256}`,
    CHILD,
    dir,
    JSON.stringify({
      system: options.system,
      storeDir: options.storeDir ?? "/gnu/store",
      lint: options.lint,
    }),
    ...modules,
  ];
  const bwrap = options.bwrap ?? defaultBwrap();
  const [command, args] = bwrap
    ? [
        bwrap,
        [
          "--die-with-parent",
          "--unshare-net",
          "--ro-bind",
          "/",
          "/",
          "--dev",
          "/dev",
          "--proc",
          "/proc",
          "--bind",
          scratch,
          scratch,
          node,
          ...nodeArgs,
        ],
      ]
    : [node, nodeArgs];
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: scratch,
      env: { HOME: scratch, TMPDIR: scratch },
    });
    const events: Record<string, unknown>[] = [];
    let buffered = "";
    let stderr = "";
    let reason: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        reason = `took longer than ${options.moduleTimeoutMs ?? 10_000} ms`;
        child.kill("SIGKILL");
      }, options.moduleTimeoutMs ?? 10_000);
    };
    arm();
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        events.push(JSON.parse(buffered.slice(0, newline)));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        arm();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (reason === undefined && (code !== 0 || signal)) {
        reason = /heap out of memory|Allocation failed/i.test(stderr)
          ? `ran out of memory (limit ${options.maxMemoryMb ?? 256} MiB)`
          : `evaluator died (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-1)[0] ?? ""}`;
      }
      resolvePromise({ events, reason });
    });
  });
}

/**
 * Evaluates the channel's modules in the sandbox and summarises their packages; with
 * `system`, lowers them too (paths only); with `lint`, runs those checkers on them.
 * @example const { packages, errors } = await evaluateChannel("channels/sample", { system: "x86_64-linux" })
 */
export async function evaluateChannel(
  dir: string,
  options: EvaluateOptions,
): Promise<{ name: string; packages: EvaluatedPackage[]; errors: EvaluationError[] }> {
  const absolute = resolve(dir);
  const manifest = readChannelManifest(absolute);
  let remaining = [...manifest.modules];
  const packages: EvaluatedPackage[] = [];
  const errors: EvaluationError[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "kiln-evaluate-"));
  try {
    while (remaining.length > 0) {
      const { events, reason } = await runEvaluator(absolute, remaining, options, scratch);
      const done = new Set<string>();
      let running: string | undefined;
      for (const event of events) {
        if (typeof event.start === "string") {
          running = event.start;
          continue;
        }
        const module = event.module as string;
        done.add(module);
        running = undefined;
        if (typeof event.error === "string") errors.push({ module, message: event.error });
        for (const pkg of (event.packages ?? []) as Omit<EvaluatedPackage, "module">[])
          packages.push({ ...pkg, module });
      }
      if (running !== undefined) {
        errors.push({ module: running, message: reason ?? "evaluation stopped" });
        done.add(running);
      } else if (reason !== undefined && done.size === 0) {
        // The evaluator failed before starting any module: report them all, do not loop.
        for (const module of remaining) errors.push({ module, message: reason });
        break;
      }
      remaining = remaining.filter((module) => !done.has(module));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { name: manifest.name, packages, errors };
}
