/**
 * Clients older than Nix 2.8, whose framings differ: AddToStoreNar with the NAR pulled
 * through STDERR_READ (1.21–1.22) or sent inline (before 1.21), AddToStore in the old
 * form with the "not fixed" compatibility rule (before 1.25), QueryPathInfo of an
 * invalid path as an error (before 1.17), and errors as message and status (before 1.26).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { formatHashNix32, hashBytes, toHex } from "@kiln/formats/hash";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { WorkerOp } from "../src/worker-protocol.ts";
import { type DaemonFixture, startDaemonFixture } from "./daemon-harness.ts";
import { RawClient } from "./raw-client.ts";

let daemon: DaemonFixture;
before(async () => {
  daemon = await startDaemonFixture();
});
after(() => daemon.dispose());

async function connect(minor: number): Promise<RawClient> {
  const client = await RawClient.connect(daemon.socket);
  await client.handshake(0x100 | minor);
  assert.deepEqual(await client.stderr(), { log: "" });
  return client;
}

/** A NAR of one regular file, and the content-addressed path it gets (recursive sha256). */
function fileNar(contents: string) {
  const nar = new FrameWriter()
    .string("nix-archive-1")
    .string("(")
    .string("type")
    .string("regular")
    .string("contents")
    .string(contents)
    .string(")")
    .take();
  const hash = hashBytes("sha256", nar);
  const path = makeFixedOutputPath({
    method: "recursive",
    hash,
    name: "old",
    storeDir: "/nix/store",
  });
  return { nar, hash, path };
}

function addToStoreNarHeader(client: RawClient, item: ReturnType<typeof fileNar>): void {
  client.frame
    .u64(WorkerOp.AddToStoreNar)
    .string(item.path)
    .string("")
    .string(toHex(item.hash.digest))
    .strings([])
    .u64(0)
    .u64(item.nar.length)
    .u64(0)
    .strings([])
    .string(`fixed:r:${formatHashNix32(item.hash)}`)
    .u64(0)
    .u64(0);
}

async function isValid(client: RawClient, path: string): Promise<boolean> {
  client.frame.u64(WorkerOp.IsValidPath).string(path);
  client.send();
  await client.stderr();
  return (await client.reader.u64()) === 1;
}

test("1.22: AddToStoreNar pulls the NAR through STDERR_READ", async () => {
  const client = await connect(22);
  const item = fileNar("tunnelled\n");
  addToStoreNarHeader(client, item);
  client.send();
  let offset = 0;
  let requests = 0;
  const { error } = await client.stderr({
    read: (n) => {
      requests++;
      const chunk = item.nar.subarray(offset, offset + n);
      offset += chunk.length;
      return chunk;
    },
  });
  assert.equal(error, undefined);
  assert.ok(requests >= 1);
  assert.equal(await isValid(client, item.path), true);
  client.close();
});

test("1.20: AddToStoreNar with the NAR inline", async () => {
  const client = await connect(20);
  const item = fileNar("inline\n");
  addToStoreNarHeader(client, item);
  client.frame.raw(item.nar);
  client.send();
  assert.equal((await client.stderr()).error, undefined);
  assert.equal(await isValid(client, item.path), true);
  client.close();
});

test("1.24: AddToStore the old way; 'not fixed' means recursive sha256", async () => {
  const client = await connect(24);
  const item = fileNar("old add\n");
  client.frame.u64(WorkerOp.AddToStore).string("old").u64(0).u64(0).string("md5").raw(item.nar);
  client.send();
  assert.equal((await client.stderr()).error, undefined);
  assert.equal(await client.reader.string(), item.path);
  client.close();
});

test("1.16: an invalid path's info is an error, sent as message and status", async () => {
  const client = await connect(16);
  client.frame
    .u64(WorkerOp.QueryPathInfo)
    .string("/nix/store/00000000000000000000000000000000-gone");
  client.send();
  const { error } = await client.stderr();
  assert.match(error?.message ?? "", /is not valid/);
  assert.equal(error?.status, 1);
  assert.equal(await isValid(client, "/nix/store/00000000000000000000000000000000-gone"), false);
  client.close();
});
