/**
 * Faults: clients sending garbage, truncated frames, absurd lengths and unknown
 * operations get an error and are disconnected while the daemon keeps serving the
 * others; kill -9 during builds leaves a store that verifies clean after a restart,
 * with no temporary roots left over; SIGTERM stops running builds and registers nothing.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { hasCommand, requirePeer } from "@kiln/testkit";
import { DaemonClient } from "../src/daemon-client.ts";
import { WORKER_MAGIC_1, WorkerOp } from "../src/worker-protocol.ts";
import { busyboxExpression, type DaemonFixture, startDaemonWithBusybox } from "./daemon-harness.ts";
import { RawClient } from "./raw-client.ts";

let daemon: DaemonFixture;
let work: string;

before(async () => {
  ({ daemon, work } = await startDaemonWithBusybox({ maxJobs: 4 }));
});
after(() => daemon.dispose());

/** A well-behaved client doing a round trip: the daemon still serves. */
async function stillServes(): Promise<void> {
  const client = await DaemonClient.connect(daemon.socket);
  try {
    const path = await client.addTextToStore("alive.txt", `alive ${Math.random()}\n`);
    assert.equal(await client.isValidPath(path), true);
  } finally {
    client.close();
  }
}

async function handshaken(): Promise<RawClient> {
  const client = await RawClient.connect(daemon.socket);
  await client.handshake(0x122);
  await client.reader.string(); // the daemon's version
  assert.deepEqual(await client.stderr({ structuredErrors: true }), { log: "" });
  return client;
}

describe("bad input", { concurrency: false }, () => {
  test("garbage instead of the greeting: disconnected", async () => {
    const client = await RawClient.connect(daemon.socket);
    client.send(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await client.closed;
    await stillServes();
  });

  test("an absurd string length: an error, then disconnected", async () => {
    const client = await handshaken();
    client.send(
      new FrameWriter()
        .u64(WorkerOp.IsValidPath)
        .u64(2 ** 40)
        .take(),
    );
    const { error } = await client.stderr({ structuredErrors: true });
    assert.match(error?.message ?? "", /exceeds the limit/);
    await client.closed;
    await stillServes();
  });

  test("a truncated frame, then the client vanishes", async () => {
    const client = await handshaken();
    client.send(new FrameWriter().u64(WorkerOp.AddTextToStore).u64(100).take().subarray(0, 12));
    client.close();
    await stillServes();
  });

  test("a frame cut short inside a framed upload: the add fails, nothing is registered", async () => {
    const client = await handshaken();
    client.frame.u64(WorkerOp.AddToStore).string("cut.txt").string("fixed:r:sha256").u64(0).u64(0);
    client.frame.u64(4096).raw(new Uint8Array(100)); // promises 4096 bytes, sends 100
    client.send();
    client.socket.end();
    await client.closed;
    await stillServes();
    const leftovers = readdirSync(daemon.realStoreDir).filter((name) => name.includes("kiln-new"));
    assert.deepEqual(leftovers, []);
  });

  test("an unknown operation: an error naming it, then disconnected", async () => {
    const client = await handshaken();
    client.send(new FrameWriter().u64(999).take());
    const { error } = await client.stderr({ structuredErrors: true });
    assert.equal(error?.message, "invalid operation 999");
    await client.closed;
    await stillServes();
  });

  test("a wrong protocol major version is refused", async () => {
    const client = await RawClient.connect(daemon.socket);
    client.send(new FrameWriter().u64(WORKER_MAGIC_1).take());
    await client.reader.u64();
    await client.reader.u64();
    client.send(new FrameWriter().u64(0x200).u64(0).u64(0).take());
    await client.closed;
    await stillServes();
  });

  test("a malformed NAR in AddToStore: an error, the connection survives", async () => {
    const client = await handshaken();
    const bogus = new FrameWriter()
      .string("nix-archive-1")
      .string("(")
      .string("type")
      .string("fifo")
      .take();
    client.frame.u64(WorkerOp.AddToStore).string("bad").string("fixed:r:sha256").u64(0).u64(0);
    client.frame.u64(bogus.length).raw(bogus).u64(0);
    client.send();
    const { error } = await client.stderr({ structuredErrors: true });
    assert.match(error?.message ?? "", /fifo|node type/);
    client.frame.u64(WorkerOp.IsValidPath).string("/nix/store/00000000000000000000000000000000-x");
    client.send();
    await client.stderr({ structuredErrors: true });
    assert.equal(await client.reader.u64(), 0);
    client.close();
  });
});

describe("crashes", { concurrency: false }, () => {
  test("kill -9 during builds: after a restart the store verifies clean, no temp roots remain", async (t) => {
    if (!requirePeer(t, "nix-store") || !hasCommand("bwrap")) {
      requirePeer(t, "bwrap", "bubblewrap");
      return;
    }
    const drvs = [1, 2, 3].map((n) => {
      const file = join(work, `slow-${n}.nix`);
      writeFileSync(
        file,
        busyboxExpression(`slow-${n}`, `echo started; sleep 2; echo ${n} > $out`),
      );
      return daemon.nix("nix-instantiate", [file], { cwd: work }).trim();
    });
    const clients = await Promise.all(drvs.map(() => DaemonClient.connect(daemon.socket)));
    const builds = drvs.map((drv, i) =>
      clients[i].buildPaths([`${drv}!out`]).catch((e: unknown) => e),
    );
    for (let i = 0; i < 200 && (daemon.log().match(/build started/g) ?? []).length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const tempRoots = join(daemon.stateDir, "kiln", "temproots");
    assert.ok(readdirSync(tempRoots).length > 0, "clients hold temporary roots");
    await daemon.kill();
    for (const result of await Promise.all(builds)) assert.ok(result instanceof Error);
    for (const client of clients) client.close();
    await daemon.restart();
    assert.deepEqual(readdirSync(tempRoots), [], "the dead daemon's temporary roots are gone");
    const checker = await DaemonClient.connect(daemon.trustedSocket);
    try {
      assert.equal(await checker.verifyStore({ checkContents: true }), false, "no errors remain");
      for (const drv of drvs) {
        const out = (await checker.queryDerivationOutputMap(drv)).get("out")!;
        assert.equal(await checker.isValidPath(out), false);
        assert.equal(existsSync(join(daemon.realStoreDir, out.slice(11))), false);
      }
      const leftovers = readdirSync(daemon.realStoreDir).filter((name) =>
        /\.(lock|kiln-new-\w+)$/.test(name),
      );
      assert.deepEqual(leftovers, []);
      // And the builds work after the restart.
      await checker.buildPaths([`${drvs[0]}!out`]);
      const out = (await checker.queryDerivationOutputMap(drvs[0])).get("out")!;
      assert.equal(await checker.isValidPath(out), true);
    } finally {
      checker.close();
    }
  });

  test("SIGTERM stops running builds, registers nothing and exits 0", async (t) => {
    if (!requirePeer(t, "nix-store") || !hasCommand("bwrap")) return;
    const file = join(work, "sigterm.nix");
    writeFileSync(file, busyboxExpression("sigterm", "echo started; sleep 30; echo done > $out"));
    const drv = daemon.nix("nix-instantiate", [file], { cwd: work }).trim();
    const client = await DaemonClient.connect(daemon.socket);
    const build = client.buildPaths([`${drv}!out`]).catch((e: unknown) => e);
    for (let i = 0; i < 200 && !daemon.log().includes(drv.slice(11)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const started = Date.now();
    assert.equal(await daemon.stop(), 0);
    assert.ok(Date.now() - started < 10_000, "the build was stopped, not waited for");
    assert.ok((await build) instanceof Error);
    client.close();
    assert.equal(existsSync(daemon.socket), false, "the socket is removed");
    await daemon.restart();
    const checker = await DaemonClient.connect(daemon.socket);
    try {
      const out = (await checker.queryDerivationOutputMap(drv)).get("out")!;
      assert.equal(await checker.isValidPath(out), false);
      assert.equal(existsSync(join(daemon.realStoreDir, out.slice(11))), false);
    } finally {
      checker.close();
    }
  });
});
