/**
 * Interop with real Nix: a cache written by `nix copy --to file://…?compression=zstd`
 * with a key from `nix-store --generate-binary-cache-key`, served over HTTP, substitutes
 * into a Kiln store, and what Kiln registers matches what Nix says about the same paths.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { formatHashNix32, fromBase64 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { parseTrustedKeys } from "@kiln/formats/verify-narinfo";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { Substituter } from "../src/index.ts";
import { scratchDir, scratchStore } from "./fixtures.ts";
import { serveDirectory } from "./serve-directory.ts";

const scratch = scratchDir("nix-copy");
after(() => scratch.dispose());

interface NixPathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  ca?: string;
  signatures?: string[];
}

function makeTree(dir: string): void {
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "share", "doc"), { recursive: true });
  writeFileSync(join(dir, "bin", "hello"), "#!/bin/sh\necho hello\n");
  chmodSync(join(dir, "bin", "hello"), 0o755);
  writeFileSync(join(dir, "share", "doc", "README"), "a tree for the substituter\n".repeat(500));
  writeFileSync(join(dir, "empty"), "");
  symlinkSync("bin/hello", join(dir, "link"));
}

test("Kiln substitutes from a zstd cache made by nix copy, and agrees with Nix", async (t) => {
  if (!requirePeer(t, "nix")) return;
  const nix = createPrivateNixStore("/nix/store");
  const tree = join(scratch.dir, "tree");
  makeTree(tree);
  const keyDir = join(scratch.dir, "keys");
  mkdirSync(keyDir);
  const generated = spawnSync("nix-store", [
    "--generate-binary-cache-key",
    "kiln-test-1",
    join(keyDir, "sk"),
    join(keyDir, "pk"),
  ]);
  assert.equal(generated.status, 0, String(generated.stderr));
  const cacheDir = join(scratch.dir, "cache");
  const server = await serveDirectory(cacheDir);
  const store = scratchStore(scratch.dir);
  const substituter = new Substituter({
    store,
    urls: [server.url],
    trustedKeys: parseTrustedKeys(readFileSync(join(keyDir, "pk"), "utf8")),
  });
  try {
    // A text path that refers to the tree, so the closure has two paths.
    const top = nix
      .run("nix-instantiate", [
        "--read-write-mode",
        "--eval",
        "--json",
        "-E",
        `builtins.toFile "refers-to-tree" "tree: \${builtins.path { path = ${tree}; name = "tree"; }}"`,
      ])
      .toString()
      .trim()
      .replace(/^"|"$/g, "");
    nix.run("nix", [
      "copy",
      "--to",
      `file://${cacheDir}?compression=zstd&secret-key=${join(keyDir, "sk")}`,
      top,
    ]);
    const theirs: NixPathInfo[] = JSON.parse(
      nix.run("nix", ["path-info", "--json", "--recursive", top]).toString(),
    );
    assert.equal(theirs.length, 2);

    const result = await substituter.substitutePaths([top]);
    assert.deepEqual(result.failed, new Map());
    assert.deepEqual([...result.substituted].sort(), theirs.map((info) => info.path).sort());
    for (const info of theirs) {
      const ours = store.queryPathInfo(info.path);
      assert.ok(ours, info.path);
      const [algorithm, base64] = info.narHash.includes("-")
        ? info.narHash.split("-")
        : [undefined, undefined];
      const nixHash = algorithm
        ? formatHashNix32({ algorithm: "sha256", digest: fromBase64(base64!) })
        : info.narHash;
      assert.equal(ours.narHash, nixHash);
      assert.equal(formatHashNix32((await hashPath(store.realPath(info.path))).hash), nixHash);
      assert.equal(ours.narSize, info.narSize);
      assert.deepEqual(ours.references, [...info.references].sort());
      assert.equal(ours.ca, info.ca);
      // nix copy signed the narinfos; the store records those signatures.
      assert.equal(ours.sigs.length, 1);
      assert.match(ours.sigs[0], /^kiln-test-1:/);
    }
    assert.equal(
      readFileSync(join(store.realPath(top))).toString(),
      `tree: ${theirs.find((i) => i.path !== top)!.path}`,
    );
  } finally {
    substituter.close();
    store.close();
    await server.close();
    nix.dispose();
  }
});
