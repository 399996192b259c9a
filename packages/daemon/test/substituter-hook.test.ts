/**
 * The substitution hook (issue 5 provides the real substituter): the daemon asks it
 * before reporting paths missing and before building, and never with --no-substitutes.
 * A fake substituter here "fetches" by writing paths into the store directly.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Derivation } from "@kiln/formats/derivation";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { printDerivation } from "@kiln/formats/print-derivation";
import { LocalStore } from "@kiln/store/local-store";
import { DaemonClient } from "../src/daemon-client.ts";
import type { DaemonSubstituter } from "../src/daemon-substituter.ts";
import { startDaemon } from "../src/start-daemon.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-substituter-hook-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A substituter that has exactly `available` (path → file contents) and records what it was asked. */
function fakeSubstituter(store: LocalStore, available: Map<string, string>) {
  const asked: string[][] = [];
  const substituter: DaemonSubstituter = {
    async querySubstitutable(paths) {
      return new Map(
        paths
          .filter((path) => available.has(path))
          .map((path) => [path, { references: [], downloadSize: 10, narSize: 100 }]),
      );
    },
    async substitute(paths, options) {
      asked.push([...paths]);
      const done = new Set<string>();
      for (const path of paths) {
        const contents = available.get(path);
        if (contents === undefined) continue;
        const temporary = store.temporaryPathFor(path);
        writeFileSync(temporary, contents);
        const { hash, narSize } = await hashPath(temporary);
        store.commitPath(temporary, {
          path,
          narHash: formatHashNix32(hash),
          narSize,
          references: [],
        });
        options.log?.(`substituted ${path}`);
        done.add(path);
      }
      return done;
    },
  };
  return { substituter, asked };
}

function derivation(name: string): Derivation {
  return computeDerivationOutputs(
    {
      outputs: new Map([["out", { path: "", hashAlgo: "", hash: "" }]]),
      inputDrvs: new Map(),
      inputSrcs: [],
      system: "x86_64-linux",
      builder: "/no/builder",
      args: [],
      env: new Map([
        ["builder", "/no/builder"],
        ["name", name],
        ["out", ""],
        ["system", "x86_64-linux"],
      ]),
    },
    { resolve: () => assert.fail("no inputs"), storeDir: "/nix/store" },
  );
}

async function withDaemon(
  name: string,
  useSubstitutes: boolean,
  body: (
    client: DaemonClient,
    store: LocalStore,
    asked: string[][],
    drv: { drvPath: string; out: string },
  ) => Promise<void>,
) {
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, name, "store"),
    stateDir: join(root, name, "state"),
  });
  const drv = derivation(`substituted-${name}`);
  const drvPath = await store.addTextToStore(`substituted-${name}.drv`, printDerivation(drv));
  const out = drv.outputs.get("out")!.path;
  const { substituter, asked } = fakeSubstituter(store, new Map([[out, `fetched ${name}\n`]]));
  const socket = join(root, `${name}.sock`);
  const daemon = await startDaemon(store, {
    listen: [{ kind: "unix", path: socket }],
    substituter,
    useSubstitutes,
  });
  const client = await DaemonClient.connect(socket);
  try {
    await body(client, store, asked, { drvPath, out });
  } finally {
    client.close();
    await daemon.close();
    store.close();
  }
}

test("QueryMissing, QueryValidPaths and EnsurePath consult the substituter", async () => {
  await withDaemon("queries", true, async (client, _store, asked, { out }) => {
    const missing = await client.queryMissing([out]);
    assert.deepEqual(missing.willSubstitute, [out]);
    assert.equal(missing.downloadSize, 10);
    assert.equal(missing.narSize, 100);
    assert.deepEqual(await client.queryValidPaths([out], { substitute: true }), [out]);
    assert.deepEqual(asked, [[out]]);
    await client.ensurePath(out);
    assert.equal(asked.length, 1, "nothing asked for a path that is valid now");
  });
});

test("a derivation whose output can be substituted is not built", async () => {
  await withDaemon("build", true, async (client, store, asked, { drvPath, out }) => {
    const logs: string[] = [];
    client.onEvent = (event) => {
      if (event.kind === "log") logs.push(event.text);
    };
    await client.buildPaths([`${drvPath}!out`]);
    assert.deepEqual(asked, [[out]]);
    assert.equal(store.isValidPath(out), true);
    assert.ok(logs.some((line) => line.includes(`substituted ${out}`)));
  });
});

test("with --no-substitutes the substituter is never asked", async () => {
  await withDaemon("off", false, async (client, _store, asked, { drvPath, out }) => {
    assert.deepEqual((await client.queryMissing([out])).unknown, [out]);
    assert.deepEqual(await client.queryValidPaths([out], { substitute: true }), []);
    await assert.rejects(client.ensurePath(out), /cannot be created/);
    await assert.rejects(client.buildPaths([`${drvPath}!out`]));
    assert.deepEqual(asked, []);
  });
});
