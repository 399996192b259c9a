/**
 * Differential test against real Nix: fast-check generates random trees (nested and empty
 * directories, empty, executable and larger files, dangling, absolute and relative symlinks,
 * names such as `-`, `.hidden`, `A` `_` `a` `~`, `é` and bytes that are not UTF-8), writes
 * them to disk, and checks that dumpPath is byte-identical to `nix-store --dump` and that
 * hashPath equals `nix hash path --base32`.
 *
 * Spawning Nix costs far more than anything checked here, so each property run writes a
 * batch of trees side by side and asks Nix about all of them in two invocations: one dump
 * of the directory holding them (a dump of a directory is the dumps of its entries, so this
 * compares every tree's bytes), and one `nix hash path` of every tree, which also covers
 * trees whose root is a file or a symlink.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hashPath } from "@kiln/formats/hash-path";
import { dumpPath } from "@kiln/formats/nar-writer";
import { encodeNix32 } from "@kiln/formats/nix32";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import fc from "fast-check";
import { collect, materialize, randomTree } from "./nar-trees.ts";

/** Property runs × trees per run ≈ 27 trees, in 6 Nix invocations. */
const RUNS = 3;
const BATCH = 9;

test("dumpPath and hashPath agree with nix-store --dump and nix hash path on random trees", async (t) => {
  if (!requirePeer(t, "nix-store") || !requirePeer(t, "nix")) return;
  const store = createPrivateNixStore();
  const scratch = mkdtempSync(join(tmpdir(), "kiln-nar-interop-"));
  t.after(() => {
    store.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(randomTree, { minLength: BATCH, maxLength: BATCH }),
      async (trees) => {
        const root = join(scratch, `run${run++}`);
        mkdirSync(root);
        const paths = trees.map((node, i) => {
          const path = join(root, `t${i}`);
          materialize(node, path);
          return path;
        });
        const nixDump = store.run("nix-store", ["--dump", root]);
        assert.ok(
          Buffer.from(await collect(dumpPath(root))).equals(nixDump),
          "dump differs from nix-store --dump",
        );
        const nixHashes = store
          .run("nix", ["hash", "path", "--base32", ...paths])
          .toString()
          .trim()
          .split("\n");
        for (const [i, path] of paths.entries()) {
          const { hash, narSize } = await hashPath(path);
          assert.equal(encodeNix32(hash.digest), nixHashes[i], `hash of tree ${i}`);
          assert.equal(narSize, (await collect(dumpPath(path))).length);
        }
      },
    ),
    { numRuns: RUNS },
  );
});
