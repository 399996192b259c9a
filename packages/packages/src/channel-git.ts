/**
 * Running `git` for channels. Git is spawned (not linked), with prompts off so an
 * unreachable or private repository fails instead of asking for a password, and with the
 * C locale so its messages are stable enough to show as they are.
 */
import { spawn } from "node:child_process";
import { PackageError } from "./package-error.ts";

export interface GitOptions {
  /** The environment git runs in (HOME for its configuration, proxies); the CLI passes its own. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra variables, e.g. GIT_INDEX_FILE. */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export interface GitResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `git ARGS…` and returns its status and output (a failing status is not thrown:
 * callers turn it into an error that names the channel).
 * @example const { stdout } = await channelGit(["--git-dir", dir, "rev-parse", "HEAD"])
 */
export function channelGit(args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env ?? {}))
    if (value !== undefined) env[key] = value;
  Object.assign(env, {
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "true",
    SSH_ASKPASS: "true",
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
    ...options.extraEnv,
  });
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (cause) =>
      reject(
        new PackageError("cannot run git", {
          cause,
          hint: "install git (apt-get install git); channels are git repositories",
        }),
      ),
    );
    child.on("close", (status) => resolve({ status: status ?? 1, stdout, stderr }));
  });
}

/** The last meaningful line git printed on stderr, for a one-line error. */
export function gitComplaint(result: GitResult): string {
  const lines = result.stderr
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    lines.find((line) => line.startsWith("fatal:")) ??
    lines.at(-1) ??
    `git exited with ${result.status}`
  );
}
