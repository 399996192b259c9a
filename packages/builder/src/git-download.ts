/**
 * A git checkout made by Kiln itself with the host's git, for the `builtin:git-download`
 * builder: no git is needed among the build's inputs, as with guix-daemon's builtin of
 * the same name. git runs with no system or global configuration, an empty HOME, no
 * hooks, no prompts and no background maintenance, so nothing of the host's setup
 * changes the result; the result is pinned by its hash anyway, which the caller checks.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { BuildUser } from "./build-users.ts";
import { BuilderError } from "./builder-error.ts";

export interface GitCheckoutRequest {
  readonly url: string;
  /** A full commit id (or, fetched in full, any revision git understands). */
  readonly commit: string;
  /** Also check out the submodules, recursively. */
  readonly recursive: boolean;
  /** Where the tree goes; must not exist. Its parent must be writable by `user`. */
  readonly directory: string;
  /** An empty directory used as git's HOME. */
  readonly home: string;
}

export interface GitCheckoutOptions {
  /** Absolute path of git; by default looked up in the usual system directories. */
  readonly git?: string;
  /** Receives git's stdout and stderr. */
  readonly log?: ((chunk: Uint8Array) => void) | Writable;
  /** Aborting kills the running git. */
  readonly signal?: AbortSignal;
  /** When running as root: git runs as this user. */
  readonly user?: BuildUser;
  /** Extra environment (proxies). */
  readonly env?: Readonly<Record<string, string>>;
}

/** How a checkout ended when it did not fail: aborted means `signal` fired. */
export interface GitCheckoutResult {
  readonly aborted: boolean;
}

// Given on every command line, so that neither the repository fetched from nor anything
// left in the checkout can run code or start background processes.
// Transports: the usual network ones, and local repositories named by the user (not by a
// submodule, git's own default since CVE-2022-39253); never `ext::` and the like.
const SAFE_CONFIG = [
  "core.hooksPath=/dev/null",
  "protocol.allow=never",
  "protocol.https.allow=always",
  "protocol.http.allow=always",
  "protocol.git.allow=always",
  "protocol.ssh.allow=always",
  "protocol.file.allow=user",
  "core.fsmonitor=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "advice.detachedHead=false",
].flatMap((setting) => ["-c", setting]);

/**
 * Fetches `commit` from `url` (shallow where the server allows it, else everything) and
 * checks it out into `directory` without `.git`. Throws BuilderError (`ERR_BUILD_FAILED`)
 * with git's last words when the commit cannot be fetched or checked out.
 *
 * @example
 * await gitCheckout(
 *   { url: "https://git.example/hello.git", commit: "0b1c…", recursive: false, directory, home },
 *   { log: (chunk) => process.stderr.write(chunk) },
 * );
 */
export async function gitCheckout(
  request: GitCheckoutRequest,
  options: GitCheckoutOptions = {},
): Promise<GitCheckoutResult> {
  const { url, commit, directory } = request;
  const git = options.git ?? defaultGit();
  const say = (text: string) => writeLog(options.log, `git-download: ${text}\n`);
  const run = (args: readonly string[]) => runGit(git, [...SAFE_CONFIG, ...args], request, options);

  say(`fetching ${commit} from ${url}`);
  const init = await run(["init", "--quiet", directory]);
  if (init.aborted) return { aborted: true };
  if (init.code !== 0) throw gitFailed(`cannot create a repository in ${directory}`, init);
  const inCheckout = (args: readonly string[]) => run(["-C", directory, ...args]);

  // Servers speaking protocol v2 (and those allowing it in v0) hand out a commit by id.
  let fetched = await inCheckout(["fetch", "--depth=1", "--no-tags", "--", url, commit]);
  if (fetched.aborted) return { aborted: true };
  let revision = "FETCH_HEAD";
  if (fetched.code !== 0) {
    say("a shallow fetch of the commit failed; fetching all branches and tags");
    fetched = await inCheckout([
      "fetch",
      "--tags",
      "--",
      url,
      "+refs/heads/*:refs/remotes/origin/*",
    ]);
    if (fetched.aborted) return { aborted: true };
    if (fetched.code !== 0) throw gitFailed(`cannot fetch from ${url}`, fetched);
    revision = commit;
  }
  const checkout = await inCheckout(["checkout", "--quiet", "--detach", `${revision}^{commit}`]);
  if (checkout.aborted) return { aborted: true };
  if (checkout.code !== 0) {
    throw gitFailed(`commit ${commit} is not in ${url}`, checkout, {
      hint: "check the origin's commit: it must be in one of the repository's branches or tags",
    });
  }
  if (request.recursive) {
    const submodules = await inCheckout(["submodule", "update", "--init", "--recursive"]);
    if (submodules.aborted) return { aborted: true };
    if (submodules.code !== 0)
      throw gitFailed(`cannot check out the submodules of ${url} at ${commit}`, submodules);
  }
  removeGitDirectories(directory, request.recursive);
  say(`checked out ${commit}`);
  return { aborted: false };
}

interface GitRun {
  readonly code: number | null;
  readonly aborted: boolean;
  /** The end of git's stderr, for error messages. */
  readonly stderrTail: string;
}

function runGit(
  git: string,
  args: readonly string[],
  request: GitCheckoutRequest,
  options: GitCheckoutOptions,
): Promise<GitRun> {
  const { user, signal, log } = options;
  if (signal?.aborted) return Promise.resolve({ code: null, aborted: true, stderrTail: "" });
  const env: Record<string, string> = {
    ...options.env,
    // Debian's git runs helpers (ssh, remote helpers) found on PATH.
    PATH: "/run/current-system/profile/bin:/usr/local/bin:/usr/bin:/bin",
    HOME: request.home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    LC_ALL: "C",
  };
  return new Promise((resolve, reject) => {
    const child = spawn(git, args, {
      env,
      // Somewhere git (perhaps as the build user) may stand; the checkout is named in full.
      cwd: request.home,
      stdio: ["ignore", "pipe", "pipe"],
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      ...(signal === undefined ? {} : { signal, killSignal: "SIGKILL" as const }),
    });
    let stderrTail = "";
    child.stdout.on("data", (chunk: Uint8Array) => writeLog(log, chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      writeLog(log, chunk);
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2000);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.name === "AbortError") return;
      reject(
        new BuilderError("ERR_BUILD_FAILED", `cannot run ${git}: ${error.message}`, {
          cause: error,
          hint: "install git on the machine that builds",
        }),
      );
    });
    child.on("close", (code) => {
      resolve({ code, aborted: signal?.aborted === true, stderrTail });
    });
  });
}

function gitFailed(what: string, run: GitRun, extra: { hint?: string } = {}): BuilderError {
  // git's first fatal line says why; what follows is advice.
  const lines = run.stderrTail.trim().split("\n");
  const reason = (lines.find((line) => line.startsWith("fatal: ")) ?? lines.at(-1) ?? "").trim();
  return new BuilderError(
    "ERR_BUILD_FAILED",
    `git-download: ${what}${reason === "" ? "" : ` (git said: ${reason})`}`,
    extra,
  );
}

/**
 * Removes `.git` at the top of the checkout, or with submodules at every level (theirs
 * are files). Never follows a symbolic link.
 */
function removeGitDirectories(directory: string, everywhere: boolean): void {
  rmSync(join(directory, ".git"), { recursive: true, force: true });
  if (!everywhere) return;
  // A directory entry's type is the link's own: a link to a directory is not entered.
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) removeGitDirectories(join(directory, entry.name), true);
  }
}

function writeLog(log: GitCheckoutOptions["log"], chunk: string | Uint8Array): void {
  if (log === undefined) return;
  const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  if (typeof log === "function") log(bytes);
  else log.write(bytes);
}

let gitPath: string | undefined;

function defaultGit(): string {
  if (gitPath !== undefined) return gitPath;
  // Nothing below the edge reads the daemon's PATH, so git is found where systems put it.
  const candidates = [
    "/usr/bin/git",
    "/bin/git",
    "/usr/local/bin/git",
    "/run/current-system/profile/bin/git",
  ];
  gitPath = candidates.find((path) => existsSync(path));
  if (gitPath === undefined) {
    throw new BuilderError(
      "ERR_MISSING_BUILDER",
      "git is not installed, so builtin:git-download cannot run",
      {
        hint: "install git on the machine that builds",
      },
    );
  }
  return gitPath;
}
