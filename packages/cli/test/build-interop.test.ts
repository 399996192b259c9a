/**
 * Issue 7's interop proof: derivations instantiated by real Nix, imported into a Kiln store
 * whose logical directory is /nix/store (kept elsewhere), built by `kiln build`; the output
 * paths equal Nix's, and for these deterministic builders the NAR hashes and references
 * equal what `nix-store --realise` produced for the same derivations, in its sandbox.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPrivateNixStore, realiseWithNix, requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";

// The builders are the host's /bin/sh, as in the conformance vectors: both sides see the
// same host paths read-only (Nix's sandbox-paths, Kiln's --chroot-directory).
const HOST_PATHS = ["/bin/sh", "/lib", "/lib64", "/usr"];

const EXPRESSION = `
let
  sh = "/bin/sh";
  base = { system = "x86_64-linux"; builder = sh; };
  leaf = derivation (base // { name = "leaf"; args = [ "-c" "echo leaf > $out" ]; });
  tree = derivation (base // {
    name = "tree";
    inherit leaf;
    args = [ "-c" "/usr/bin/mkdir -p $out/bin $out/share; echo \\"#!/bin/sh\\" > $out/bin/run; /usr/bin/chmod +x $out/bin/run; echo $leaf > $out/share/dep; /usr/bin/ln -s $out/bin/run $out/self" ];
  });
  multi = derivation (base // {
    name = "multi";
    outputs = [ "out" "dev" ];
    inherit tree;
    args = [ "-c" "echo $dev > $out; echo $tree/bin/run > $dev" ];
  });
  fixed = derivation (base // {
    name = "fixed";
    outputHashMode = "flat";
    outputHashAlgo = "sha256";
    outputHash = builtins.hashString "sha256" "fixed contents\\n";
    args = [ "-c" "echo fixed contents > $out" ];
  });
  top = derivation (base // {
    name = "top";
    inherit multi fixed;
    src = builtins.toFile "src.txt" "a source file";
    args = [ "-c" "cat $src > $out; echo \\" $multi $fixed\\" >> $out" ];
  });
in [ leaf tree multi fixed top ]
`;

test("kiln build of Nix-instantiated derivations gives Nix's outputs, NAR hashes and references", (t) => {
  if (!requirePeer(t, "nix-store")) return;
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const nix = createPrivateNixStore("/nix/store");
  const scratch = mkdtempSync(join(tmpdir(), "kiln-build-interop-"));
  const env = {
    KILN_STORE_DIR: "/nix/store",
    KILN_REAL_STORE_DIR: join(scratch, "store"),
    KILN_STATE_DIR: join(scratch, "state"),
  };
  try {
    const drvs = nix.run("nix-instantiate", ["--expr", EXPRESSION]).toString().trim().split("\n");
    assert.equal(drvs.length, 5);
    const closure = nix
      .run("nix-store", ["-qR", ...drvs])
      .toString()
      .trim()
      .split("\n");
    const archive = nix.run("nix-store", ["--export", ...closure]);
    const imported = runKiln(["archive", "--import"], { env, input: archive });
    assert.equal(imported.status, 0, imported.stderr);

    const chroot = HOST_PATHS.flatMap((path) => ["--chroot-directory", path]);
    const built = runKiln(["build", "--max-jobs", "2", ...chroot, ...drvs], { env });
    assert.equal(built.status, 0, built.stderr);
    const kilnOutputs = built.stdout.trim().split("\n").sort();

    const realised = realiseWithNix(nix, drvs, HOST_PATHS).sort();
    assert.deepEqual(kilnOutputs, realised);
    assert.equal(kilnOutputs.length, 6); // multi has two outputs

    const info = JSON.parse(
      runKiln(["store", "path-info", "--json", ...kilnOutputs], { env }).stdout,
    ) as Array<{
      path: string;
      narHash: string;
      references: string[];
    }>;
    const nixInfo = JSON.parse(
      nix.run("nix", ["path-info", "--json", ...realised]).toString(),
    ) as typeof info;
    const byPath = new Map(nixInfo.map((entry) => [entry.path, entry]));
    for (const entry of info) {
      const theirs = byPath.get(entry.path);
      assert.ok(theirs, entry.path);
      assert.equal(entry.narHash, theirs.narHash, `NAR hash of ${entry.path}`);
      assert.deepEqual(
        [...entry.references].sort(),
        [...theirs.references].sort(),
        `references of ${entry.path}`,
      );
    }
    // Building again finds everything valid and prints the same paths.
    const again = runKiln(["build", ...chroot, ...drvs], { env });
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(again.stdout.trim().split("\n").sort(), kilnOutputs);
  } finally {
    nix.dispose();
  }
});
