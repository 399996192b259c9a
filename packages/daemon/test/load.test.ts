/**
 * Load: 50 clients at once, mixing queries, adds and builds, against one daemon with
 * four build slots. Every answer is checked against what it must be (paths computed
 * here, contents on disk), and derivations asked for by several clients are built once.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { formatHashNix32, hashBytes } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { makeFixedOutputPath, makeTextPath } from "@kiln/formats/make-store-path";
import { printDerivation } from "@kiln/formats/print-derivation";
import { hasCommand, requirePeer } from "@kiln/testkit";
import { DaemonClient } from "../src/daemon-client.ts";
import { busyboxDerivation, type DaemonFixture, startDaemonWithBusybox } from "./daemon-harness.ts";

const CLIENTS = 50;
const SHARED_BUILDS = 5;
let daemon: DaemonFixture;
let work: string;

before(async () => {
  ({ daemon, work } = await startDaemonWithBusybox({ maxJobs: 4 }));
});
after(() => daemon.dispose());

test(`${CLIENTS} clients at once: queries, adds and builds all answer correctly`, async (t) => {
  if (!hasCommand("bwrap")) {
    requirePeer(t, "bwrap", "bubblewrap");
    return;
  }
  const setup = await DaemonClient.connect(daemon.socket);
  const busybox = (await setup.addToStore(join(work, "bb"))).path;
  const shared: { drvPath: string; out: string; n: number }[] = [];
  for (let n = 0; n < SHARED_BUILDS; n++) {
    const drv = busyboxDerivation(busybox, `shared-${n}`, `sleep 0.3; echo shared ${n} > $out`);
    const drvPath = await setup.addTextToStore(`shared-${n}.drv`, printDerivation(drv), [busybox]);
    shared.push({ drvPath, out: drv.outputs.get("out")!.path, n });
  }
  setup.close();

  const started = Date.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const client = await DaemonClient.connect(daemon.socket);
      try {
        switch (i % 3) {
          case 0: {
            const text = `query client ${i}\n`;
            const path = await client.addTextToStore(`q-${i}.txt`, text, [busybox]);
            assert.equal(
              path,
              makeTextPath(`q-${i}.txt`, text, { references: [busybox], storeDir: "/nix/store" }),
            );
            const info = (await client.queryPathInfo(path))!;
            assert.equal(info.ca, `text:${formatHashNix32(hashBytes("sha256", text))}`);
            assert.deepEqual(info.references, [busybox]);
            assert.ok((await client.queryReferrers(busybox)).includes(path));
            assert.equal(await client.isValidPath(busybox), true);
            break;
          }
          case 1: {
            const dir = join(work, `add-${i}`);
            mkdirSync(dir, { recursive: true });
            writeFileSync(join(dir, "data"), `added by client ${i}\n`.repeat(1000));
            const info = await client.addToStore(dir);
            const { hash, narSize } = await hashPath(dir);
            assert.equal(
              info.path,
              makeFixedOutputPath({
                method: "recursive",
                hash,
                name: `add-${i}`,
                storeDir: "/nix/store",
              }),
            );
            assert.equal(info.narHash, formatHashNix32(hash));
            assert.equal(info.narSize, narSize);
            break;
          }
          default: {
            const { drvPath, out, n } = shared[i % SHARED_BUILDS];
            await client.buildPaths([`${drvPath}!out`]);
            assert.equal(await client.isValidPath(out), true);
            assert.equal(
              readFileSync(join(daemon.realStoreDir, out.slice(11)), "utf8"),
              `shared ${n}\n`,
            );
          }
        }
      } finally {
        client.close();
      }
    }),
  );
  const failures = outcomes.flatMap((outcome, i) =>
    outcome.status === "rejected" ? [`client ${i}: ${String(outcome.reason)}`] : [],
  );
  assert.deepEqual(failures, []);
  for (const { drvPath } of shared) {
    const starts = daemon
      .log()
      .split("\n")
      .filter((line) => line.includes("build started") && line.includes(drvPath));
    assert.equal(starts.length, 1, `${drvPath} was built once for all the clients asking`);
  }
  t.diagnostic(`${CLIENTS} clients in ${Date.now() - started} ms`);
});
