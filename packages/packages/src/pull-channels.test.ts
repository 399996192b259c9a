/**
 * pullChannels against real git repositories made here: the channel's tree goes to the
 * store without `.git`, in the layout profiles merge; a channel in a subdirectory is
 * found through `.kiln-channel.json`; modules in the store import `@kiln/packages`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { requirePeer } from "@kiln/testkit";
import type { ChannelSpec } from "./channel-spec.ts";
import { loadChannels } from "./load-channels.ts";
import { pullChannels } from "./pull-channels.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-pull-channels-"));
after(() => rmSync(root, { recursive: true, force: true }));
const gitEnv = {
  ...process.env,
  HOME: root,
  GIT_AUTHOR_NAME: "Kiln Test",
  GIT_AUTHOR_EMAIL: "test@kiln.example.org",
  GIT_COMMITTER_NAME: "Kiln Test",
  GIT_COMMITTER_EMAIL: "test@kiln.example.org",
};
const git = (repo: string, ...args: string[]) =>
  execFileSync("git", ["-C", repo, ...args], { env: gitEnv, encoding: "utf8" }).trim();

/** A repository with `files` committed on `main`; returns the commit. */
function commit(repo: string, files: Record<string, string>): string {
  if (!existsSync(repo)) {
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "change");
  return git(repo, "rev-parse", "HEAD");
}

const module = (version: string) => `import { licenses, type Package } from "@kiln/packages";
export const tiny: Package = {
  name: "tiny", version: "${version}", buildSystem: "trivial",
  arguments: { builder: 'mkdir -p "$out"' },
  synopsis: "Tiny", description: "This package is tiny.", license: licenses.cc0,
};
`;

function openStore(name: string) {
  return LocalStore.open({
    storeDir: "/gnu/store",
    realStoreDir: join(root, name, "store"),
    stateDir: join(root, name, "state"),
  });
}

test("a channel in a subdirectory is added without .git and its modules load from the store", async (t) => {
  if (!requirePeer(t, "git")) return;
  const repo = join(root, "sub-repo");
  const first = commit(repo, {
    ".kiln-channel.json": '{ "version": 0, "directory": "channels/tiny" }',
    "channels/tiny/channel.json": '{ "name": "tiny", "modules": ["modules/tiny.ts"] }',
    "channels/tiny/modules/tiny.ts": module("1.0"),
    README: "not part of the channel",
  });
  const store = openStore("sub");
  try {
    const spec: ChannelSpec = { name: "tiny", url: `file://${repo}`, branch: "main" };
    const options = { checkoutsDir: join(root, "sub", "checkouts"), env: gitEnv };
    const [instance] = await pullChannels(store, [spec], options);
    assert.ok(instance);
    assert.equal(instance.commit, first);
    assert.equal(instance.directory, "channels/tiny");
    assert.match(instance.item, /-kiln-channel-tiny-[0-9a-f]{7}$/);
    const real = store.realPath(instance.item);
    assert.deepEqual(JSON.parse(readFileSync(join(real, "channels", "tiny.json"), "utf8")), {
      name: "tiny",
      url: `file://${repo}`,
      branch: "main",
      commit: first,
      directory: "channels/tiny",
    });
    assert.ok(existsSync(join(real, "channels", "tiny", "channel.json")));
    assert.ok(!existsSync(join(real, "channels", "tiny", ".git")));
    assert.ok(!existsSync(join(real, "channels", "tiny", "README")));
    const { packages } = await loadChannels([join(real, "channels", "tiny")]);
    assert.deepEqual(
      packages.map((pkg) => `${pkg.name}@${pkg.version}`),
      ["tiny@1.0"],
    );

    // Unchanged: the previous item is kept. A new commit: a new item.
    const [again] = await pullChannels(store, [spec], { ...options, previous: [instance] });
    assert.equal(again, instance);
    const second = commit(repo, { "channels/tiny/modules/tiny.ts": module("2.0") });
    const [next] = await pullChannels(store, [spec], { ...options, previous: [instance] });
    assert.equal(next?.commit, second);
    assert.notEqual(next?.item, instance.item);
    // Pinned to the first commit by a prefix: the first item again (same content).
    const [pinned] = await pullChannels(store, [{ ...spec, commit: first.slice(0, 10) }], options);
    assert.equal(pinned?.item, instance.item);
  } finally {
    store.close();
  }
});

test("a repository without channel.json, or listing a missing module, is refused", async (t) => {
  if (!requirePeer(t, "git")) return;
  const store = openStore("bad");
  const options = { checkoutsDir: join(root, "bad", "checkouts"), env: gitEnv };
  try {
    const bare = join(root, "no-manifest");
    const at = commit(bare, { "modules/tiny.ts": module("1.0") });
    await assert.rejects(
      pullChannels(store, [{ name: "tiny", url: bare, branch: "main" }], options),
      new RegExp(`channel tiny: no channel\\.json in ${bare} at commit ${at}`),
    );
    const missing = join(root, "missing-module");
    commit(missing, { "channel.json": '{ "name": "tiny", "modules": ["modules/gone.ts"] }' });
    await assert.rejects(
      pullChannels(store, [{ name: "tiny", url: missing, branch: "main" }], options),
      /channel tiny: channel\.json lists modules\/gone\.ts, which is not in commit/,
    );
  } finally {
    store.close();
  }
});
