/** Runs the real `kiln` entry point in a child process, as a user would. */
import { spawnSync } from "node:child_process";

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
