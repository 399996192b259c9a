/**
 * The local copy of a channel's repository: a bare clone in
 * `CACHE/kiln/checkouts/<sha256 of the URL>`, fetched again on every pull (as Guix keeps
 * `~/.cache/guix/checkouts`). A first clone is made at a temporary name and renamed into
 * place, so a failed clone leaves nothing behind. Resolves the wanted commit: the pinned
 * one (which must be in the repository), or the branch's tip.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { channelGit, type GitOptions, gitComplaint } from "./channel-git.ts";
import type { ChannelSpec } from "./channel-spec.ts";
import { PackageError } from "./package-error.ts";

export interface CheckoutOptions extends GitOptions {
  /** `~/.cache/kiln/checkouts` (the CLI resolves XDG_CACHE_HOME). */
  readonly checkoutsDir: string;
}

export interface ChannelCheckout {
  /** The bare repository holding the channel's history. */
  readonly gitDir: string;
  /** The full commit to use. */
  readonly commit: string;
}

/** Branches and tags of the remote, mirrored: the cache is a copy, not a work area. */
const REFSPECS = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/**
 * Clones or fetches `spec.url` and returns the commit to check out.
 * @example const { gitDir, commit } = await updateChannelCheckout(spec, { checkoutsDir })
 */
export async function updateChannelCheckout(
  spec: ChannelSpec,
  options: CheckoutOptions,
): Promise<ChannelCheckout> {
  const key = createHash("sha256").update(spec.url).digest("hex").slice(0, 40);
  const gitDir = join(options.checkoutsDir, key);
  const cannotFetch = (result: { stderr: string; status: number }) =>
    new PackageError(
      `channel ${spec.name}: cannot fetch ${spec.url}: ${gitComplaint({ stdout: "", ...result })}`,
    );
  if (existsSync(join(gitDir, "HEAD"))) {
    const fetched = await channelGit(
      ["--git-dir", gitDir, "fetch", "--quiet", "--prune", "--force", "--", spec.url, ...REFSPECS],
      options,
    );
    if (fetched.status !== 0) throw cannotFetch(fetched);
  } else {
    mkdirSync(options.checkoutsDir, { recursive: true });
    const temporary = `${gitDir}.kiln-new-${process.pid}`;
    rmSync(temporary, { recursive: true, force: true });
    const cloned = await channelGit(
      ["clone", "--bare", "--quiet", "--", spec.url, temporary],
      options,
    );
    if (cloned.status !== 0) {
      rmSync(temporary, { recursive: true, force: true });
      throw cannotFetch(cloned);
    }
    rmSync(gitDir, { recursive: true, force: true });
    renameSync(temporary, gitDir);
  }
  const wanted = spec.commit ?? `refs/heads/${spec.branch}`;
  const parsed = await channelGit(
    ["--git-dir", gitDir, "rev-parse", "--verify", "--quiet", `${wanted}^{commit}`],
    options,
  );
  if (parsed.status !== 0) {
    throw spec.commit
      ? new PackageError(`channel ${spec.name}: commit ${spec.commit} not found in ${spec.url}`)
      : new PackageError(`channel ${spec.name}: branch ${spec.branch} not found in ${spec.url}`);
  }
  return { gitDir, commit: parsed.stdout.trim() };
}
