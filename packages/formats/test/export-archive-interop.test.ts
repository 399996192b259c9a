import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { readExportArchive, writeExportArchive } from "../src/export-archive.ts";
import { formatHashNix32 } from "../src/hash.ts";
import { hashPath } from "../src/hash-path.ts";
import { makeFixedOutputPath } from "../src/make-store-path.ts";
import { dumpPath } from "../src/nar-writer.ts";
import { FrameReader } from "../src/worker-protocol-framing.ts";

const scratch = mkdtempSync(join(tmpdir(), "kiln-export-"));

function tree(name: string, text: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "d"), { recursive: true });
  writeFileSync(join(dir, "d", "file"), text);
  writeFileSync(join(dir, "x"), "#!/bin/sh\n", { mode: 0o755 });
  return dir;
}

async function concat(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk.slice());
  return Buffer.concat(chunks);
}

test("reads what nix-store --export writes", async (t) => {
  if (!requirePeer(t, "nix-store")) return;
  const nix = createPrivateNixStore("/nix/store");
  try {
    const a = nix
      .run("nix-store", ["--add", tree("a", "first\n")])
      .toString()
      .trim();
    // A text file referring to `a`, realised as the source of an instantiated derivation.
    const expr = `derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh"; src = builtins.toFile "t" "refers to \${builtins.storePath ${JSON.stringify(a)}}"; }`;
    const drv = nix.run("nix-instantiate", ["--expr", expr]).toString().trim();
    const references = nix.run("nix-store", ["-q", "--references", drv]).toString().split("\n");
    const text = references.find((p) => p.endsWith("-t")) as string;
    const archive = nix.run("nix-store", ["--export", a, text]);
    const reader = new FrameReader();
    reader.push(archive);
    reader.end();
    const items: Array<{ path: string; references: readonly string[]; nar: Buffer }> = [];
    for await (const item of readExportArchive(reader)) {
      const nar = await concat(item.nar);
      const trailer = await item.trailer();
      assert.equal(trailer.signature, undefined);
      items.push({ path: trailer.path, references: trailer.references, nar });
    }
    assert.deepEqual(
      items.map((i) => i.path),
      [a, text],
    );
    assert.deepEqual(items[1].references, [a]);
    assert.deepEqual(
      items[0].nar,
      nix.run("nix-store", ["--dump", nix.realStoreDir + a.slice(10)]),
    );
    assert.deepEqual(
      items[1].nar,
      nix.run("nix-store", ["--dump", nix.realStoreDir + text.slice(10)]),
    );
    assert.equal(reader.buffered, 0);
  } finally {
    nix.dispose();
  }
});

test("nix-store --import accepts what Kiln writes", async (t) => {
  if (!requirePeer(t, "nix-store")) return;
  const nix = createPrivateNixStore("/nix/store");
  try {
    const dir = tree("b", "second\n");
    const { hash } = await hashPath(dir);
    const path = makeFixedOutputPath({
      method: "recursive",
      hash,
      name: "b",
      storeDir: "/nix/store",
    });
    const archive = await concat(
      writeExportArchive([{ nar: dumpPath(dir), path, references: [] }]),
    );
    const imported = nix.run("nix-store", ["--import"], archive).toString().trim();
    assert.equal(imported, path);
    assert.equal(
      nix.run("nix-store", ["-q", "--hash", path]).toString().trim(),
      formatHashNix32(hash),
    );
    nix.run("nix-store", ["--verify-path", path]);
  } finally {
    nix.dispose();
  }
});

test("an archive with a bad item marker or magic is refused with a typed error", async () => {
  const dir = tree("c", "third\n");
  const good = await concat(
    writeExportArchive([{ nar: dumpPath(dir), path: "/gnu/store/x", references: [] }]),
  );
  const badMarker = Buffer.from(good);
  badMarker[0] = 2;
  const badMagic = Buffer.from(good);
  badMagic[good.length - 8 * 9] ^= 0xff; // inside the trailer
  for (const bytes of [badMarker, badMagic, good.subarray(0, good.length - 3)]) {
    const reader = new FrameReader();
    reader.push(bytes);
    reader.end();
    await assert.rejects(async () => {
      for await (const item of readExportArchive(reader)) {
        await concat(item.nar);
        await item.trailer();
      }
    }, /export archive|worker protocol|nar/);
  }
});
