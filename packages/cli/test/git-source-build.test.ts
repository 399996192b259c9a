/**
 * A package whose source is a git checkout builds offline: the repository is made here
 * (two commits), the package pins the first by commit and hash, its source derivation is
 * `builtin:git-download` (made by Kiln with the host's git, no git among the seeds), and
 * the package's build in the sandbox sees exactly the first revision's files as `$src`.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { toHex } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { licenses, lowerPackage, type Package } from "@kiln/packages";
import { makeGitRepository, requirePeer } from "@kiln/testkit";
import { seededStore } from "./seeded-store.ts";

test("a package with a git source pinned by commit and hash builds from that commit", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap") || !requirePeer(t, "git")) return;
  const { root, store, bootstrap, build, dispose } = await seededStore("kiln-git-source-");
  try {
    const repo = makeGitRepository(join(root, "greeter"));
    const first = repo.commit("first", (dir) => {
      mkdirSync(join(dir, "doc"));
      writeFileSync(join(dir, "greeting"), "hello from the first commit\n");
      writeFileSync(join(dir, "doc", "NEWS"), "1.0: first\n");
    });
    repo.commit("second", (dir) => {
      writeFileSync(join(dir, "greeting"), "hello from the second commit\n");
      writeFileSync(join(dir, "added-later"), "not in the first commit\n");
    });

    // The pinned hash: Kiln's hashPath of a clean checkout of the first commit, no .git.
    const clean = join(root, "clean");
    repo.cleanCheckout(first, clean);
    const sha256 = toHex((await hashPath(clean)).hash.digest);

    const greeter: Package = {
      name: "greeter",
      version: "1.0",
      source: { kind: "git", url: `file://${repo.dir}`, commit: first, sha256 },
      buildSystem: "trivial",
      arguments: {
        builder: [
          'test ! -e "$src/.git"',
          'mkdir -p "$out/share"',
          'cp -r "$src"/* "$out/share/"',
          'ls -A "$src" > "$out/listing"',
        ].join("\n"),
      },
      synopsis: "Greeting fetched from git",
      description: "This package copies a greeting out of a git checkout.",
      license: licenses.cc0,
    };
    const lowered = await lowerPackage(greeter, {
      system: "x86_64-linux",
      storeDir: "/gnu/store",
      bootstrap,
      store,
    });
    const { failures } = await build([lowered.drvPath]);
    assert.deepEqual(failures, []);
    const out = store.realPath(lowered.outputs.out!);
    assert.equal(
      readFileSync(join(out, "share", "greeting"), "utf8"),
      "hello from the first commit\n",
    );
    assert.equal(readFileSync(join(out, "listing"), "utf8"), "doc\ngreeting\n");
    const src = lowered.derivation.env.get("src")!;
    assert.ok(store.isValidPath(src), "the checkout is in the store");
    assert.deepEqual(store.requirePathInfo(src).references, []);
  } finally {
    dispose();
  }
});
