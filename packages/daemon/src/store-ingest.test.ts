import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { formatContentAddress } from "@kiln/formats/content-address";
import { formatHashNix32, hashBytes } from "@kiln/formats/hash";
import { makeFixedOutputPath, makeTextPath } from "@kiln/formats/make-store-path";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { LocalStore } from "@kiln/store/local-store";
import { ingestDump, ingestNar, isContentAddressed } from "./store-ingest.ts";

let root: string;
let store: LocalStore;
before(() => {
  root = mkdtempSync(join(tmpdir(), "kiln-ingest-"));
  store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir: join(root, "state"),
  });
});
after(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

/** The NAR of one regular file. */
function fileNar(contents: string): Uint8Array {
  return new FrameWriter()
    .string("nix-archive-1")
    .string("(")
    .string("type")
    .string("regular")
    .string("contents")
    .string(contents)
    .string(")")
    .take();
}

test("dumps become content-addressed paths: recursive, flat with sha1, text", async () => {
  const recursive = await ingestDump(store, [fileNar("r\n")], {
    name: "r",
    method: "recursive",
    algorithm: "sha256",
    references: [],
  });
  const narHash = hashBytes("sha256", fileNar("r\n"));
  assert.equal(
    recursive,
    makeFixedOutputPath({ method: "recursive", hash: narHash, name: "r", storeDir: "/nix/store" }),
  );
  assert.equal(store.requirePathInfo(recursive).narHash, formatHashNix32(narHash));
  const flat = await ingestDump(store, [Buffer.from("fl"), Buffer.from("at\n")], {
    name: "f",
    method: "flat",
    algorithm: "sha1",
    references: [],
  });
  assert.equal(
    flat,
    makeFixedOutputPath({
      method: "flat",
      hash: hashBytes("sha1", "flat\n"),
      name: "f",
      storeDir: "/nix/store",
    }),
  );
  assert.equal(readFileSync(store.realPath(flat), "utf8"), "flat\n");
  assert.equal(
    store.requirePathInfo(flat).ca,
    formatContentAddress({ method: "flat", hash: hashBytes("sha1", "flat\n") }),
  );
  const text = await ingestDump(store, [Buffer.from("t\n")], {
    name: "t",
    method: "text",
    algorithm: "sha256",
    references: [flat],
  });
  assert.equal(text, makeTextPath("t", "t\n", { references: [flat], storeDir: "/nix/store" }));
  assert.deepEqual(
    readdirSync(store.config.realStoreDir).filter((n) => !n.startsWith(".") && n.includes(".")),
    [],
    "no temporary names or locks left",
  );
});

test("a NAR is checked against its stated hash and content address before it becomes valid", async () => {
  const nar = fileNar("known\n");
  const narHash = formatHashNix32(hashBytes("sha256", nar));
  const path = makeFixedOutputPath({
    method: "recursive",
    hash: hashBytes("sha256", nar),
    name: "known",
    storeDir: "/nix/store",
  });
  const info = { path, narHash, narSize: nar.length, references: [], ca: `fixed:r:${narHash}` };
  assert.equal(isContentAddressed(store, info), true);
  assert.equal(
    isContentAddressed(store, { ...info, path: path.replace(/known$/, "other") }),
    false,
  );
  await assert.rejects(ingestNar(store, [fileNar("tampered\n")], info), /hash mismatch/);
  assert.equal(store.isValidPath(path), false);
  const lying = { ...info, narHash: formatHashNix32(hashBytes("sha256", fileNar("x\n"))) };
  await assert.rejects(ingestNar(store, [fileNar("x\n")], lying), /content address mismatch/);
  assert.equal(store.isValidPath(path), false);
  await ingestNar(store, [nar], info);
  assert.equal(store.requirePathInfo(path).narHash, narHash);
  assert.deepEqual(
    readdirSync(store.config.realStoreDir).filter((n) => /kiln-new|\.lock$/.test(n)),
    [],
  );
});
