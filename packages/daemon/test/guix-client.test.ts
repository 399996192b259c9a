/**
 * A Guix client's conversation, byte for byte as guix/store.scm frames it (protocol
 * 0x163; the daemon answers 1.34 and Guix then speaks the old encodings): the
 * handshake without a version string, set-options, add-to-store with the NAR after the
 * arguments (recursive and flat), query-path-info without Nix's extra fields,
 * add-text-to-store, build-things of a bare .drv path with Guix build traces, errors as
 * a message and a status, and export/import through STDERR_WRITE/STDERR_READ.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hostSystem } from "@kiln/builder/host-system";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { readExportArchive } from "@kiln/formats/export-archive";
import { hashBytes, toHex } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { dumpPath } from "@kiln/formats/nar-writer";
import { printDerivation } from "@kiln/formats/print-derivation";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { hasCommand, requirePeer } from "@kiln/testkit";
import { WorkerOp } from "../src/worker-protocol.ts";
import { busyboxDirectory, type DaemonFixture, startDaemonFixture } from "./daemon-harness.ts";
import { RawClient } from "./raw-client.ts";

const GUIX_PROTOCOL = 0x163;
let daemon: DaemonFixture;
let work: string;

before(async () => {
  daemon = await startDaemonFixture();
  work = join(daemon.root, "work");
  mkdirSync(work);
});
after(() => daemon.dispose());

async function nar(path: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of dumpPath(path)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Connects as Guix: handshake, the initial stderr, and set-options as Guix sends them. */
async function guixConnect(socket = daemon.socket): Promise<RawClient> {
  const client = await RawClient.connect(socket);
  assert.equal(await client.handshake(GUIX_PROTOCOL), 0x122);
  assert.deepEqual(await client.stderr(), { log: "" });
  client.frame.u64(WorkerOp.SetOptions).u64(0).u64(0).u64(0).u64(0).u64(1).u64(3600);
  client.frame.u64(1).u64(0).u64(0).u64(1).u64(2).u64(1);
  client.frame.u64(3).string("build-timeout").string("3600");
  client.frame.string("terminal-columns").string("80").string("locale").string("C");
  client.send();
  assert.deepEqual(await client.stderr(), { log: "" });
  return client;
}

/** add-to-store, old form: name, fixed (always 1 from Guix), recursive, algorithm, NAR. */
async function addToStore(
  client: RawClient,
  name: string,
  recursive: boolean,
  file: string,
): Promise<string> {
  client.frame
    .u64(WorkerOp.AddToStore)
    .string(name)
    .u64(1)
    .u64(recursive ? 1 : 0)
    .string("sha256");
  client.send();
  client.send(await nar(file));
  const { error } = await client.stderr();
  assert.equal(error, undefined);
  return client.reader.string();
}

describe("a Guix client", { concurrency: false }, () => {
  test("adds files the old way and reads path info in Guix's short form", async () => {
    const client = await guixConnect();
    try {
      const tree = join(work, "tree");
      mkdirSync(tree, { recursive: true });
      writeFileSync(join(tree, "a"), "A\n");
      const flat = join(work, "flat.txt");
      writeFileSync(flat, "flat contents\n");
      const recursivePath = await addToStore(client, "tree", true, tree);
      const { hash } = await hashPath(tree);
      assert.equal(
        recursivePath,
        makeFixedOutputPath({ method: "recursive", hash, name: "tree", storeDir: "/nix/store" }),
      );
      const flatPath = await addToStore(client, "flat.txt", false, flat);
      assert.equal(
        flatPath,
        makeFixedOutputPath({
          method: "flat",
          hash: hashBytes("sha256", "flat contents\n"),
          name: "flat.txt",
          storeDir: "/nix/store",
        }),
      );
      assert.equal(
        readFileSync(join(daemon.realStoreDir, flatPath.slice(11)), "utf8"),
        "flat contents\n",
      );

      client.frame.u64(WorkerOp.QueryPathInfo).string(recursivePath);
      client.send();
      await client.stderr();
      assert.equal(await client.reader.u64(), 1); // valid
      assert.equal(await client.reader.string(), ""); // deriver
      assert.equal(await client.reader.string(), toHex(hash.digest));
      assert.deepEqual(await client.reader.strings(), []);
      assert.ok((await client.reader.u64()) > 0); // registration time
      assert.equal(await client.reader.u64(), (await nar(tree)).length);
      // Nothing else follows: the next answer comes straight after.
      client.frame.u64(WorkerOp.QueryPathHash).string(recursivePath);
      client.send();
      await client.stderr();
      assert.equal(await client.reader.string(), toHex(hash.digest));
      client.frame.u64(WorkerOp.QueryReferences).string(recursivePath);
      client.send();
      await client.stderr();
      assert.deepEqual(await client.reader.strings(), []);
    } finally {
      client.close();
    }
  });

  test("builds a bare .drv path with build-things and sees Guix build traces", async (t) => {
    if (!hasCommand("bwrap")) {
      requirePeer(t, "bwrap", "bubblewrap");
      return;
    }
    const client = await guixConnect();
    try {
      const busybox = await addToStore(client, "bb", true, busyboxDirectory(work));
      const builder = `${busybox}/bin/busybox`;
      const system = hostSystem();
      const drv = computeDerivationOutputs(
        {
          outputs: new Map([["out", { path: "", hashAlgo: "", hash: "" }]]),
          inputDrvs: new Map(),
          inputSrcs: [busybox],
          system,
          builder,
          args: ["sh", "-c", "echo from-guix > $out; echo guix-build-output"],
          env: new Map([
            ["builder", builder],
            ["name", "guix-built"],
            ["out", ""],
            ["system", system],
          ]),
        },
        { resolve: () => assert.fail("no inputs"), storeDir: "/nix/store" },
      );
      client.frame
        .u64(WorkerOp.AddTextToStore)
        .string("guix-built.drv")
        .string(printDerivation(drv))
        .strings([busybox]);
      client.send();
      await client.stderr();
      const drvPath = await client.reader.string();
      client.frame.u64(WorkerOp.BuildPaths).strings([drvPath]).u64(0);
      client.send();
      const { log, error } = await client.stderr();
      assert.equal(error, undefined);
      assert.equal(await client.reader.u64(), 1);
      assert.match(log, new RegExp(`@ build-started ${drvPath} - `));
      assert.match(log, /guix-build-output/);
      assert.match(log, new RegExp(`@ build-succeeded ${drvPath} -`));
      const out = drv.outputs.get("out")!.path;
      assert.equal(readFileSync(join(daemon.realStoreDir, out.slice(11)), "utf8"), "from-guix\n");
    } finally {
      client.close();
    }
  });

  test("built-in-builders lists git-download (so Guix's git-fetch uses it) and buildenv", async () => {
    const client = await guixConnect();
    try {
      client.frame.u64(WorkerOp.BuiltinBuilders);
      client.send();
      await client.stderr();
      assert.deepEqual(await client.reader.strings(), ["buildenv", "git-download"]);
    } finally {
      client.close();
    }
  });

  test("errors are a message and a status; the connection goes on", async () => {
    const client = await guixConnect();
    try {
      client.frame
        .u64(WorkerOp.EnsurePath)
        .string("/nix/store/00000000000000000000000000000000-nowhere");
      client.send();
      const { error } = await client.stderr();
      assert.match(error?.message ?? "", /does not exist and cannot be created/);
      assert.equal(error?.status, 1);
      client.frame
        .u64(WorkerOp.IsValidPath)
        .string("/nix/store/00000000000000000000000000000000-nowhere");
      client.send();
      await client.stderr();
      assert.equal(await client.reader.u64(), 0);
    } finally {
      client.close();
    }
  });

  test("export-path streams an archive item; import-paths needs a trusted socket", async () => {
    const client = await guixConnect();
    const trusted = await guixConnect(daemon.trustedSocket);
    try {
      const file = join(work, "exported.txt");
      writeFileSync(file, "exported\n");
      const path = await addToStore(client, "exported.txt", true, file);
      const parts: Uint8Array[] = [new FrameWriter().u64(1).take()];
      client.frame.u64(WorkerOp.ExportPath).string(path).u64(0);
      client.send();
      const { error } = await client.stderr({ write: (data) => parts.push(data) });
      assert.equal(error, undefined);
      assert.equal(await client.reader.u64(), 1);
      parts.push(new FrameWriter().u64(0).take());
      const archive = Buffer.concat(parts);
      const reader = new FrameReader();
      reader.push(archive);
      reader.end();
      for await (const item of readExportArchive(reader)) {
        const body: Uint8Array[] = [];
        for await (const chunk of item.nar) body.push(chunk);
        assert.deepEqual(Buffer.concat(body), await nar(file));
        assert.equal((await item.trailer()).path, path);
      }
      const importInto = async (target: RawClient) => {
        let offset = 0;
        target.frame.u64(WorkerOp.ImportPaths);
        target.send();
        return target.stderr({
          read: (n) => {
            const chunk = archive.subarray(offset, offset + n);
            offset += chunk.length;
            return chunk;
          },
        });
      };
      const refused = await importInto(client);
      assert.match(refused.error?.message ?? "", /not privileged/);
      const accepted = await importInto(trusted);
      assert.equal(accepted.error, undefined);
      assert.deepEqual(await trusted.reader.strings(), [path]);
    } finally {
      client.close();
      trusted.close();
    }
  });
});
