/**
 * Builds shared between clients: two clients asking for one derivation share one build;
 * a client that disconnects does not stop a build another client waits for, but a build
 * nobody waits for any more is stopped (and registers nothing); --max-jobs bounds the
 * builds running at once across all clients.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hasCommand, requirePeer } from "@kiln/testkit";
import { DaemonClient } from "../src/daemon-client.ts";
import { RemoteDaemonError } from "../src/daemon-error.ts";
import {
  addBusyboxDerivation,
  busyboxDirectory,
  type DaemonFixture,
  startDaemonFixture,
} from "./daemon-harness.ts";

let daemon: DaemonFixture;
let busybox: string;

before(async () => {
  if (!hasCommand("bwrap")) return;
  daemon = await startDaemonFixture({ maxJobs: 2 });
  const client = await DaemonClient.connect(daemon.socket);
  busybox = (await client.addToStore(busyboxDirectory(join(daemon.root, "work")))).path;
  client.close();
});
after(async () => {
  if (daemon !== undefined) await daemon.dispose();
});

function lines(pattern: string): string[] {
  return daemon
    .log()
    .split("\n")
    .filter((line) => line.includes(pattern));
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("shared builds", { concurrency: false }, () => {
  test("a client leaving does not stop the build another client waits for", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const a = await DaemonClient.connect(daemon.socket);
    const b = await DaemonClient.connect(daemon.socket);
    const { drvPath, out } = await addBusyboxDerivation(
      a,
      busybox,
      "shared-slow",
      "sleep 1; echo shared > $out",
    );
    const first = a.buildPaths([`${drvPath}!out`]).catch((e: unknown) => e);
    await until(
      () => lines(`build started`).some((line) => line.includes(drvPath)),
      "the build to start",
    );
    // b is told the build has started only once it has joined the job: close a after that,
    // or the job may have no waiter left for a moment and be stopped.
    let joined = false;
    b.onEvent = (event) => {
      if (event.kind === "start" && event.text.includes(drvPath)) joined = true;
    };
    const second = b.buildPaths([`${drvPath}!out`]);
    await until(() => joined, "the second client to join the build");
    a.close();
    await second;
    assert.ok((await first) instanceof Error, "the client that left got no answer");
    assert.equal(await b.isValidPath(out), true);
    assert.equal(
      lines("build started").filter((line) => line.includes(drvPath)).length,
      1,
      "built once",
    );
    b.close();
  });

  test("a build nobody waits for any more is stopped and registers nothing", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const a = await DaemonClient.connect(daemon.socket);
    const { drvPath, out } = await addBusyboxDerivation(
      a,
      busybox,
      "abandoned",
      "sleep 20; echo never > $out",
    );
    const started = Date.now();
    const pending = a.buildPaths([`${drvPath}!out`]).catch((e: unknown) => e);
    await until(
      () => lines("build started").some((line) => line.includes(drvPath)),
      "the build to start",
    );
    a.close();
    await pending;
    await until(
      () => lines("build finished").some((line) => line.includes(drvPath)),
      "the build to stop",
    );
    assert.ok(Date.now() - started < 15_000, "stopped, not run to the end");
    const finished = lines("build finished").find((line) => line.includes(drvPath))!;
    assert.match(finished, /"status":"failed"/);
    const check = await DaemonClient.connect(daemon.socket);
    assert.equal(await check.isValidPath(out), false);
    check.close();
  });

  test("a failed dependency fails its dependents with DependencyFailed", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const client = await DaemonClient.connect(daemon.socket);
    try {
      const broken = await addBusyboxDerivation(client, busybox, "broken-dep", "exit 1");
      const top = await addBusyboxDerivation(client, busybox, "needs-broken", "echo x > $out", [
        broken,
      ]);
      const [result] = await client.buildPathsWithResults([`${top.drvPath}!out`]);
      assert.equal(result.status, 10);
      assert.match(result.errorMsg, /dependency .*broken-dep\.drv failed/);
      const error = await client.buildPaths([`${top.drvPath}!out`]).catch((e: unknown) => e);
      assert.ok(error instanceof RemoteDaemonError);
    } finally {
      client.close();
    }
  });

  test("--max-jobs bounds the builds running at once across clients", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const setup = await DaemonClient.connect(daemon.socket);
    const drvs = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        addBusyboxDerivation(setup, busybox, `slot-${n}`, `sleep 0.5; echo ${n} > $out`),
      ),
    );
    setup.close();
    const started = Date.now();
    await Promise.all(
      drvs.map(async ({ drvPath }) => {
        const client = await DaemonClient.connect(daemon.socket);
        await client.buildPaths([`${drvPath}!out`]);
        client.close();
      }),
    );
    assert.ok(
      Date.now() - started >= 950,
      "four half-second builds on two slots take at least a second",
    );
  });
});
