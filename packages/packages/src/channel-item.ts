/**
 * Adding a channel at one commit to the store: its directory, exported from the bare
 * checkout without `.git`, plus a record of where it came from (channel-instance.ts has
 * the layout). The channel's directory is the top of the repository when `channel.json`
 * is there; otherwise the top-level `.kiln-channel.json` names it, as Guix's
 * `.guix-channel` `directory` field does:
 *
 *   { "version": 0, "directory": "channels/sample" }
 *
 * (so this repository, whose sample channel is in `channels/sample`, is a channel).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import type { LocalStore } from "@kiln/store/local-store";
import type { ChannelCheckout } from "./channel-checkout.ts";
import { channelGit, type GitOptions, gitComplaint } from "./channel-git.ts";
import type { ChannelInstance, ChannelRecord } from "./channel-instance.ts";
import type { ChannelSpec } from "./channel-spec.ts";
import { readChannelManifest } from "./load-channel.ts";
import { PackageError } from "./package-error.ts";

/** Where the channel is in the repository at `commit`: "" or the pointer's directory. */
async function channelDirectory(
  spec: ChannelSpec,
  checkout: ChannelCheckout,
  options: GitOptions,
): Promise<string> {
  const git = (...args: string[]) => channelGit(["--git-dir", checkout.gitDir, ...args], options);
  const has = async (path: string) =>
    (await git("cat-file", "-e", `${checkout.commit}:${path}`)).status === 0;
  if (await has("channel.json")) return "";
  const missing = `channel ${spec.name}: no channel.json in ${spec.url} at commit ${checkout.commit}`;
  if (!(await has(".kiln-channel.json")))
    throw new PackageError(missing, {
      hint: 'put channel.json at the top of the repository, or a .kiln-channel.json {"directory": …} naming its directory',
    });
  const pointer = await git("show", `${checkout.commit}:.kiln-channel.json`);
  let directory: unknown;
  try {
    directory = JSON.parse(pointer.stdout).directory;
  } catch {
    directory = undefined;
  }
  if (
    typeof directory !== "string" ||
    directory.startsWith("/") ||
    normalize(directory).startsWith("..")
  )
    throw new PackageError(
      `channel ${spec.name}: .kiln-channel.json in ${spec.url} needs "directory", a relative path`,
    );
  const clean = normalize(directory).replace(/\/+$/, "").replace(/^\.$/, "");
  if (!(await has(clean === "" ? "channel.json" : `${clean}/channel.json`)))
    throw new PackageError(`${missing} (nor in ${clean}/, which .kiln-channel.json names)`);
  return clean;
}

export interface ChannelItemOptions extends GitOptions {
  readonly spec: ChannelSpec;
  /** The bare clone and the commit to export (updateChannelCheckout). */
  readonly checkout: ChannelCheckout;
}

/**
 * Exports the channel at `checkout.commit` and adds it to the store; returns what was pulled.
 * @example await addChannelItem(store, { spec, checkout: await updateChannelCheckout(spec, options) })
 */
export async function addChannelItem(
  store: Pick<LocalStore, "addToStore">,
  options: ChannelItemOptions,
): Promise<ChannelInstance> {
  const { spec, checkout } = options;
  const directory = await channelDirectory(spec, checkout, options);
  const scratch = mkdtempSync(join(tmpdir(), "kiln-channel-"));
  try {
    const tree = join(scratch, "item", "channels", spec.name);
    mkdirSync(tree, { recursive: true });
    // read-tree into a throw-away index exports the tree without touching the cache.
    const exported = await channelGit(
      [
        "--git-dir",
        checkout.gitDir,
        "--work-tree",
        tree,
        "-c",
        "core.autocrlf=false",
        "-c",
        "core.symlinks=true",
        "read-tree",
        "--reset",
        "-u",
        directory === "" ? `${checkout.commit}^{tree}` : `${checkout.commit}:${directory}`,
      ],
      { ...options, extraEnv: { GIT_INDEX_FILE: join(scratch, "index") } },
    );
    if (exported.status !== 0)
      throw new PackageError(
        `channel ${spec.name}: cannot export commit ${checkout.commit}: ${gitComplaint(exported)}`,
      );
    const manifest = readChannelManifest(tree);
    for (const module of manifest.modules) {
      if (!existsSync(join(tree, module)))
        throw new PackageError(
          `channel ${spec.name}: channel.json lists ${module}, which is not in commit ${checkout.commit}`,
        );
    }
    const record: ChannelRecord = {
      name: spec.name,
      url: spec.url,
      branch: spec.branch,
      commit: checkout.commit,
      directory,
    };
    writeFileSync(
      join(scratch, "item", "channels", `${spec.name}.json`),
      `${JSON.stringify(record, null, 1)}\n`,
    );
    const item = await store.addToStore(join(scratch, "item"), {
      name: `kiln-channel-${spec.name}-${checkout.commit.slice(0, 7)}`,
    });
    return { ...record, item };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
