/** Runs the real `kiln` entry point in a child process, as a user would. */
import { spawn, spawnSync } from "node:child_process";

/** The real entry point, as `npx kiln` runs it. */
const MAIN = new URL("../bin/kiln.js", import.meta.url).pathname;

export interface KilnRun {
  status: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export function runKiln(
  args: readonly string[],
  options: { input?: string | Uint8Array; env?: Record<string, string> } = {},
): KilnRun {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    input: options.input,
    maxBuffer: 1 << 30,
    env: { ...process.env, ...options.env },
  });
  return {
    status: result.status,
    stdout: result.stdout.toString("utf8"),
    stderr: result.stderr.toString("utf8"),
    stdoutBytes: result.stdout,
  };
}

/** Like runKiln, without blocking the event loop (for tests whose own servers must answer). */
export function runKilnAsync(
  args: readonly string[],
  options: { input?: string | Uint8Array; env?: Record<string, string> } = {},
): Promise<Omit<KilnRun, "stdoutBytes">> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdin.end(options.input);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** `runKiln` with the environment and input as positional arguments, for terse test tables. */
export function runKilnWith(
  args: readonly string[],
  env: Record<string, string>,
  input?: string,
): KilnRun {
  return runKiln(args, { env, input });
}
