/**
 * Git repositories made by tests with the host's git, offline and reproducible in what
 * matters: a fixed author, no system or user configuration (HOME is the repository).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface GitRepository {
  readonly dir: string;
  /** Runs git in the repository; returns its output, trimmed. */
  git(...args: string[]): string;
  /** Calls `write(dir)` to change the files, commits all of it; returns the commit. */
  commit(message: string, write: (dir: string) => void): string;
  /** A checkout of `commit` at `dest` without `.git`, as a fetcher leaves it. */
  cleanCheckout(commit: string, dest: string): void;
}

function runGit(cwd: string, args: readonly string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: "/usr/bin:/bin",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Kiln",
      GIT_AUTHOR_EMAIL: "kiln@example.org",
      GIT_COMMITTER_NAME: "Kiln",
      GIT_COMMITTER_EMAIL: "kiln@example.org",
    },
  }).trim();
}

/**
 * An empty git repository at `dir` (made if missing); needs `git` (see requirePeer).
 *
 * @example
 * const repo = makeGitRepository(join(root, "repo"));
 * const first = repo.commit("first", (dir) => writeFileSync(join(dir, "README"), "one\n"));
 */
export function makeGitRepository(dir: string): GitRepository {
  mkdirSync(dir, { recursive: true });
  runGit(dir, ["init", "--quiet"]);
  const git = (...args: string[]) => runGit(dir, args);
  return {
    dir,
    git,
    commit(message, write) {
      write(dir);
      git("add", "--all");
      git("commit", "--quiet", "-m", message);
      return git("rev-parse", "HEAD");
    },
    cleanCheckout(commit, dest) {
      git("clone", "--quiet", dir, dest);
      runGit(dest, ["-c", "advice.detachedHead=false", "checkout", "--quiet", commit]);
      rmSync(join(dest, ".git"), { recursive: true });
    },
  };
}
