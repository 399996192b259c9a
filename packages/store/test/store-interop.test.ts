import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { exportPaths } from "../src/export-paths.ts";
import { importPaths } from "../src/import-paths.ts";
import { verifyStore } from "../src/verify-store.ts";
import { scratchStore } from "./scratch-store.ts";

async function concat(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

for (const storeDir of ["/nix/store", "/gnu/store"]) {
  test(`kiln store add gives the path and NAR hash nix-store --add gives (${storeDir})`, async (t) => {
    if (!requirePeer(t, "nix-store")) return;
    const nix = createPrivateNixStore(storeDir);
    const { store, tree } = scratchStore(storeDir);
    try {
      const src = tree("pkg", {
        "bin/run.sh": "#!/bin/sh\n",
        "lib/data": "x".repeat(5000),
        "é-name": "utf8\n",
      });
      const expected = nix.run("nix-store", ["--add", src]).toString().trim();
      const path = await store.addToStore(src);
      assert.equal(path, expected);
      assert.equal(
        store.requirePathInfo(path).narHash,
        nix.run("nix-store", ["-q", "--hash", path]).toString().trim(),
      );
    } finally {
      nix.dispose();
    }
  });
}

test("a closure exported by nix-store --export imports into Kiln with the same hashes and references", async (t) => {
  if (!requirePeer(t, "nix-instantiate")) return;
  const nix = createPrivateNixStore("/nix/store");
  const { store } = scratchStore("/nix/store");
  try {
    const drv = nix
      .run("nix-instantiate", [
        "--expr",
        `let dep = derivation { name = "dep"; system = "x86_64-linux"; builder = "/bin/sh"; src = builtins.toFile "s" "x"; };
         in derivation { name = "top"; system = "x86_64-linux"; builder = "/bin/sh"; inherit dep; }`,
      ])
      .toString()
      .trim();
    const closure = nix.run("nix-store", ["-qR", drv]).toString().trim().split("\n");
    const archive = nix.run("nix-store", ["--export", ...closure]);
    const imported = await importPaths(
      store,
      Readable.from([archive.subarray(0, 100), archive.subarray(100)]),
    );
    assert.deepEqual([...imported].sort(), [...closure].sort());
    for (const path of closure) {
      const info = store.requirePathInfo(path);
      assert.equal(
        info.narHash,
        nix.run("nix-store", ["-q", "--hash", path]).toString().trim(),
        path,
      );
      const references = nix
        .run("nix-store", ["-q", "--references", path])
        .toString()
        .trim()
        .split("\n")
        .filter(Boolean)
        .sort();
      assert.deepEqual(info.references, references, path);
    }
    // The derivation's outputs were recorded on import, as Nix records them.
    assert.equal(
      store.readDerivation(drv).outputs.get("out")?.path,
      [...store.db.derivationOutputs(drv).values()][0],
    );
    assert.equal((await verifyStore(store, { checkContents: true })).clean, true);

    // And back: Kiln's export imports into a fresh Nix store.
    const other = createPrivateNixStore("/nix/store");
    try {
      const back = await concat(exportPaths(store, [drv], { recursive: true }));
      const paths = other.run("nix-store", ["--import"], back).toString().trim().split("\n");
      assert.deepEqual([...paths].sort(), [...closure].sort());
      other.run("nix-store", ["--verify-path", ...closure]);
    } finally {
      other.dispose();
    }
  } finally {
    nix.dispose();
  }
});
