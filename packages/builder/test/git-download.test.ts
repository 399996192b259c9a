/**
 * `builtin:git-download` end to end with the host's git and no network: a repository made
 * here with two commits, fetched through `file://` by derivations pinned at either, then
 * the store checked (a failed checkout leaves nothing behind and registers nothing).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { formatHashNix32, toHex } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { type GitRepository, makeGitRepository, requirePeer } from "@kiln/testkit";
import { buildDerivations } from "../src/build-derivations.ts";
import type { BuildOptions, BuildResult } from "../src/build-options.ts";
import { BuildUserPool } from "../src/build-user-pool.ts";
import { readBuildLog } from "../src/read-build-log.ts";
import { assertAbsent, assertFailedWith } from "./build-assertions.ts";
import { type BuildTestStore, createBuildTestStore } from "./build-test-store.ts";

let t: BuildTestStore;
let repo: GitRepository;
const commits: string[] = [];
/** Recursive sha256 of each commit's tree without .git, base16. */
const hashes: string[] = [];

/** The tree of `commit` as a clean checkout without .git would have it: its NAR hash. */
async function treeHash(commit: string): Promise<string> {
  const clean = join(t.root, `clean-${commit}`);
  repo.cleanCheckout(commit, clean);
  const { hash } = await hashPath(clean);
  rmSync(clean, { recursive: true });
  return toHex(hash.digest);
}

before(async () => {
  t = await createBuildTestStore("/nix/store");
  repo = makeGitRepository(join(t.root, "repo"));
  commits.push(
    repo.commit("first", (dir) => {
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "README"), "first revision\n");
      writeFileSync(join(dir, "src", "run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
      // A link out of the checkout must stay a link: nothing follows it.
      symlinkSync("/etc/passwd", join(dir, "passwd-link"));
    }),
  );
  commits.push(
    repo.commit("second", (dir) => writeFileSync(join(dir, "README"), "second revision\n")),
  );
  // Readable by build users too (the test store's root is world-searchable).
  execFileSync("chmod", ["-R", "a+rX", repo.dir]);
  for (const commit of commits) hashes.push(await treeHash(commit));
});
after(() => t?.dispose());

function checkout(name: string, env: Record<string, string>, hash?: string) {
  return t.addDerivation({
    name,
    builder: "builtin:git-download",
    args: [],
    env,
    ...(hash === undefined ? {} : { fixed: { hashAlgo: "r:sha256", hash } }),
  });
}

async function buildOne(drvPath: string, options: BuildOptions = {}): Promise<BuildResult> {
  const [result] = await buildDerivations(t.store, [drvPath], options);
  return result!;
}

async function buildLog(drvPath: string): Promise<string> {
  return text(readBuildLog(t.store.config, t.store.db, drvPath)!);
}

function hashFromHex(hex: string) {
  return { algorithm: "sha256" as const, digest: Buffer.from(hex, "hex") };
}

// Sequential: derivations pinned by the same hash share their output path.
describe("builtin:git-download", () => {
  test("checks out the pinned commit without .git and registers it as a fixed output", async (ctx) => {
    if (!requirePeer(ctx, "git")) return;
    const { drvPath, drv } = await checkout(
      "repo-checkout",
      { url: JSON.stringify(`file://${repo.dir}`), commit: commits[0]!, "recursive?": "#f" },
      hashes[0],
    );
    const result = await buildOne(drvPath);
    assert.equal(result.status, "built", result.error?.message);
    const out = t.output(drv);
    const real = t.store.realPath(out);
    assert.equal(readFileSync(join(real, "README"), "utf8"), "first revision\n");
    assert.equal(existsSync(join(real, ".git")), false, "no .git");
    assert.equal(statSync(join(real, "src", "run.sh")).mode & 0o111, 0o111, "executable kept");
    assert.deepEqual(readdirSync(real).sort(), ["README", "passwd-link", "src"]);
    const info = t.store.requirePathInfo(out);
    assert.equal(info.ca, `fixed:r:${formatHashNix32(hashFromHex(hashes[0]!))}`);
    assert.deepEqual(info.references, []);
    assert.match(await buildLog(drvPath), /git-download: fetching/, "progress is in the log");
  });

  test("an abbreviated commit is found by fetching everything", async (ctx) => {
    if (!requirePeer(ctx, "git")) return;
    const { drvPath, drv } = await checkout(
      "repo-checkout",
      // A bare URL is accepted too (Guix writes a Scheme string).
      { url: `file://${repo.dir}`, commit: commits[1]!.slice(0, 12) },
      hashes[1],
    );
    const result = await buildOne(drvPath);
    assert.equal(result.status, "built", result.error?.message);
    const real = t.store.realPath(t.output(drv));
    assert.equal(readFileSync(join(real, "README"), "utf8"), "second revision\n");
    assert.match(await buildLog(drvPath), /fetching all branches and tags/);
  });

  test("a wrong hash fails with both hashes and registers nothing", async (ctx) => {
    if (!requirePeer(ctx, "git")) return;
    const wrong = "1".repeat(64);
    const { drvPath, drv } = await checkout(
      "wrong-checkout",
      { url: `"file://${repo.dir}"`, commit: commits[0]! },
      wrong,
    );
    const result = await buildOne(drvPath);
    assertFailedWith(result, "ERR_HASH_MISMATCH", /hash mismatch/);
    const message = result.error!.message;
    assert.ok(message.includes(formatHashNix32(hashFromHex(wrong))), message);
    assert.ok(message.includes(formatHashNix32(hashFromHex(hashes[0]!))), message);
    assertAbsent(t.store, t.output(drv));
  });

  test("an unknown commit fails clearly", async (ctx) => {
    if (!requirePeer(ctx, "git")) return;
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const { drvPath, drv } = await checkout(
      "missing-checkout",
      { url: `"file://${repo.dir}"`, commit: missing },
      "2".repeat(64),
    );
    const result = await buildOne(drvPath);
    assertFailedWith(result, "ERR_BUILD_FAILED", new RegExp(`commit ${missing} is not in file://`));
    assert.ok(result.error?.hint, "with a hint");
    assertAbsent(t.store, t.output(drv));
  });

  test("only fixed-output derivations with a recursive hash may use it", async () => {
    const { drvPath, drv } = await checkout("not-fixed", {
      url: `file://${repo.dir}`,
      commit: commits[0]!,
    });
    const result = await buildOne(drvPath);
    assertFailedWith(result, "ERR_BAD_DERIVATION", /is not a fixed-output derivation/);
    assertAbsent(t.store, t.output(drv));
    const flat = await t.addDerivation({
      name: "flat-checkout",
      builder: "builtin:git-download",
      args: [],
      env: { url: `file://${repo.dir}`, commit: commits[0]! },
      fixed: { hashAlgo: "sha256", hash: hashes[0]! },
    });
    assertFailedWith(await buildOne(flat.drvPath), "ERR_BAD_DERIVATION", /must be recursive/);
    const other = await t.addDerivation({
      name: "other-builtin",
      builder: "builtin:fetchurl",
      args: [],
      env: { url: "https://example.org/x" },
      fixed: { hashAlgo: "sha256", hash: hashes[0]! },
    });
    assertFailedWith(await buildOne(other.drvPath), "ERR_UNSUPPORTED", /builtin:fetchurl/);
  });

  test("options cannot be smuggled in through the url or the commit", async () => {
    for (const env of [
      { url: "--upload-pack=touch /tmp/x", commit: commits[0]! },
      { url: `file://${repo.dir}`, commit: "--orphan" },
      { url: '"file://unterminated', commit: commits[0]! },
    ]) {
      const { drvPath } = await checkout("bad-env", env, "3".repeat(64));
      assertFailedWith(await buildOne(drvPath), "ERR_BAD_DERIVATION", /builtin:git-download/);
    }
  });

  test("as root with build users, git runs as the build user", async (ctx) => {
    if (!requirePeer(ctx, "git")) return;
    if (process.getuid?.() !== 0) {
      ctx.skip("needs root");
      return;
    }
    // A commit of the repository whose tree no other test builds.
    const third = repo.commit("third", (dir) =>
      writeFileSync(join(dir, "README"), "third revision\n"),
    );
    const hash = await treeHash(third);
    const pool = new BuildUserPool([{ name: "nobody", uid: 65534, gid: 65534 }]);
    const buildDir = join(t.root, "builds");
    mkdirSync(buildDir, { recursive: true });
    chmodSync(buildDir, 0o755);
    // git refuses a repository of another owner: the proof that it ran as the build user.
    const asRoot = await checkout(
      "user-checkout",
      { url: `file://${repo.dir}`, commit: third },
      hash,
    );
    assertFailedWith(
      await buildOne(asRoot.drvPath, { buildUserPool: pool, buildDir }),
      "ERR_BUILD_FAILED",
      /dubious ownership/,
    );
    const owned = join(t.root, "repo-of-nobody");
    execFileSync("cp", ["-a", repo.dir, owned]);
    execFileSync("chown", ["-R", "65534:65534", owned]);
    const { drvPath, drv } = await checkout(
      "user-checkout",
      { url: `file://${owned}`, commit: third },
      hash,
    );
    const result = await buildOne(drvPath, { buildUserPool: pool, buildDir });
    assert.equal(result.status, "built", result.error?.message);
    const real = t.store.realPath(t.output(drv));
    assert.equal(readFileSync(join(real, "README"), "utf8"), "third revision\n");
    assert.equal(statSync(real).uid, 0, "the store copy belongs to root");
  });
});
