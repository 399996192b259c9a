/**
 * passAsFile and exportReferencesGraph against real Nix: derivations instantiated by
 * `nix-instantiate`, realised by `nix-store --realise` in Nix's sandbox and built by
 * Kiln from the same `.drv` files; the outputs must have the same NAR hashes and
 * references. The builders print what they found in their build tree (the attribute
 * files' contents and names, the closure files) and check that every path named in a
 * closure file is visible in the sandbox, so any difference in names, formats or
 * visibility shows up as a different NAR hash.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { toBase64 } from "@kiln/formats/hash";
import { decodeNix32 } from "@kiln/formats/nix32";
import { importPaths } from "@kiln/store/import-paths";
import { LocalStore } from "@kiln/store/local-store";
import { createPrivateNixStore, realiseWithNix, requirePeer } from "@kiln/testkit";
import { buildDerivations } from "../src/build-derivations.ts";

// Both sides see the same host paths read-only (Nix's sandbox-paths, Kiln's chroot dirs).
const HOST_PATHS = ["/bin/sh", "/lib", "/lib64", "/usr"];

const EXPRESSION = `
let
  base = { system = "x86_64-linux"; builder = "/bin/sh"; };
  dep = derivation (base // { name = "dep"; args = [ "-c" "echo dep > $out" ]; });
  mid = derivation (base // { name = "mid"; inherit dep; args = [ "-c" "echo $dep > $out" ]; });
  passing = derivation (base // {
    name = "passing";
    passAsFile = [ "text" "empty" "missing" ];
    text = "line one\\nline two\\n";
    empty = "";
    plain = "stays in the environment";
    args = [ "-c" "/usr/bin/cat $textPath $emptyPath > $out; echo \\"[$text][$empty][$plain][$missingPath]\\" >> $out; /usr/bin/basename $textPath >> $out; /usr/bin/basename $emptyPath >> $out; /usr/bin/ls -A >> $out" ];
  });
  graph = derivation (base // {
    name = "graph";
    exportReferencesGraph = [ "closure" mid "drvs" mid.drvPath ];
    args = [ "-c" "/usr/bin/cat closure drvs > $out; for p in $(/usr/bin/cat closure drvs); do case $p in /nix/store/*) test -e $p || echo missing $p >> $out;; esac; done; /usr/bin/ls -A >> $out" ];
  });
in [ passing graph ]
`;

test("passAsFile and exportReferencesGraph builds match nix-store --realise", async (t) => {
  if (!requirePeer(t, "nix-store")) return;
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const nix = createPrivateNixStore("/nix/store");
  const scratch = mkdtempSync(join(tmpdir(), "kiln-build-tree-files-"));
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(scratch, "store"),
    stateDir: join(scratch, "state"),
  });
  try {
    const drvs = nix.run("nix-instantiate", ["--expr", EXPRESSION]).toString().trim().split("\n");
    const closure = nix
      .run("nix-store", ["-qR", ...drvs])
      .toString()
      .trim()
      .split("\n");
    const archive = nix.run("nix-store", ["--export", ...closure]);
    await importPaths(
      store,
      (async function* () {
        yield archive;
      })(),
    );

    const results = await buildDerivations(store, drvs, { chrootDirs: HOST_PATHS, maxJobs: 2 });
    for (const result of results)
      assert.equal(result.status, "built", `${result.drvPath}: ${result.error?.message}`);

    const realised = realiseWithNix(nix, drvs, HOST_PATHS);
    const nixInfo = JSON.parse(nix.run("nix", ["path-info", "--json", ...realised]).toString()) as {
      path: string;
      narHash: string;
      references: string[];
    }[];
    assert.equal(nixInfo.length, 2);
    for (const theirs of nixInfo) {
      const ours = store.queryPathInfo(theirs.path);
      assert.ok(ours, `${theirs.path} was built by Kiln`);
      const sri = `sha256-${toBase64(decodeNix32(ours.narHash.slice("sha256:".length)))}`;
      assert.equal(sri, theirs.narHash, `NAR hash of ${theirs.path}`);
      assert.deepEqual(
        ours.references,
        [...theirs.references].sort(),
        `references of ${theirs.path}`,
      );
    }
  } finally {
    store.close();
    nix.dispose();
    rmSync(scratch, { recursive: true, force: true });
  }
});
