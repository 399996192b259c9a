/**
 * Kiln's DaemonClient against a real nix-daemon (Nix 2.8) on a private socket and store,
 * and the same client code against `kiln daemon`: every answer is checked on its own
 * (paths Nix computes, NAR hashes of the bytes received) and the two daemons must agree
 * with each other, field by field.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hostSystem } from "@kiln/builder/host-system";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { formatHashNix32, parseHash } from "@kiln/formats/hash";
import {
  createPrivateNixStore,
  hasCommand,
  type PrivateNixStore,
  requirePeer,
} from "@kiln/testkit";
import { DaemonClient } from "../src/daemon-client.ts";
import { RemoteDaemonError } from "../src/daemon-error.ts";
import { BuildStatusCode, GcAction } from "../src/worker-protocol.ts";
import {
  addBusyboxDerivation,
  busyboxDirectory,
  type DaemonFixture,
  type NixDaemonFixture,
  startDaemonFixture,
  startNixDaemon,
} from "./daemon-harness.ts";

const available = hasCommand("nix-daemon") && hasCommand("bwrap");
let kiln: DaemonFixture;
let real: NixDaemonFixture;
let nix: PrivateNixStore;
let work: string;
/** Label → socket: the same scenario runs against both. */
let daemons: [string, string][];

before(async () => {
  if (!available) return;
  [kiln, real] = await Promise.all([startDaemonFixture(), startNixDaemon()]);
  nix = createPrivateNixStore("/nix/store");
  work = join(kiln.root, "work");
  busyboxDirectory(work);
  daemons = [
    ["nix-daemon", real.socket],
    ["kiln daemon", kiln.trustedSocket],
  ];
});

after(async () => {
  if (!available) return;
  await Promise.all([kiln.dispose(), real.dispose()]);
  nix.dispose();
});

function peers(t: Parameters<typeof requirePeer>[0]): boolean {
  return requirePeer(t, "nix-daemon") && requirePeer(t, "bwrap", "bubblewrap");
}

/** Runs `scenario` against both daemons; returns the two results for comparison. */
async function both<T>(
  scenario: (client: DaemonClient, label: string) => Promise<T>,
): Promise<[T, T]> {
  const results: T[] = [];
  for (const [label, socket] of daemons) {
    const client = await DaemonClient.connect(socket);
    try {
      results.push(await scenario(client, label));
    } finally {
      client.close();
    }
  }
  return [results[0], results[1]];
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

function sha256Nix32(bytes: Uint8Array): string {
  return formatHashNix32({
    algorithm: "sha256",
    digest: createHash("sha256").update(bytes).digest(),
  });
}

describe("DaemonClient against nix-daemon and kiln daemon", { concurrency: false }, () => {
  test("the handshake negotiates 1.34", async (t) => {
    if (!peers(t)) return;
    const [a, b] = await both(async (client) => ({
      version: client.daemonVersion,
      format: client.format,
    }));
    assert.equal(a.version, 0x122);
    assert.deepEqual(a, b);
  });

  test("adding files: recursive, flat and text, with the paths and hashes Nix computes", async (t) => {
    if (!peers(t)) return;
    const file = join(work, "data.txt");
    writeFileSync(file, "some data\n");
    const expected = nix.run("nix-store", ["--add", file]).toString().trim();
    const expectedFlat = nix.run("nix-store", ["--add-fixed", "sha256", file]).toString().trim();
    const [a, b] = await both(async (client) => {
      const recursive = await client.addToStore(file);
      const flat = await client.addToStore(file, { method: "flat", algorithm: "sha256" });
      const text = await client.addTextToStore("note.txt", "a note\n", [recursive.path]);
      const textInfo = (await client.queryPathInfo(text))!;
      const tree = await client.addToStore(join(work, "bb"));
      return { recursive, flat, text, textInfo, tree };
    });
    assert.equal(a.recursive.path, expected);
    assert.equal(a.flat.path, expectedFlat);
    assert.equal(
      a.recursive.narHash,
      nix.run("nix-store", ["-q", "--hash", expected]).toString().trim(),
    );
    for (const key of ["recursive", "flat", "textInfo", "tree"] as const) {
      const { registrationTime: _x, ...left } = a[key];
      const { registrationTime: _y, ...right } = b[key];
      assert.deepEqual(right, left, key);
    }
    assert.equal(a.text, b.text);
    assert.deepEqual(a.textInfo.references, [a.recursive.path]);
    assert.match(a.textInfo.ca ?? "", /^text:sha256:/);
  });

  test("queries: validity, hash parts, referrers, missing paths", async (t) => {
    if (!peers(t)) return;
    const file = join(work, "query.txt");
    writeFileSync(file, "query me\n");
    const [a, b] = await both(async (client) => {
      const { path } = await client.addToStore(file);
      const text = await client.addTextToStore("referrer.txt", `see ${path}\n`, [path]);
      const missing = "/nix/store/00000000000000000000000000000000-missing";
      return {
        valid: await client.isValidPath(path),
        invalid: await client.isValidPath(missing),
        validPaths: await client.queryValidPaths([missing, text, path]),
        info: await client.queryPathInfo(missing),
        byHash: await client.queryPathFromHashPart(path.slice(11, 43)),
        noHash: await client.queryPathFromHashPart("00000000000000000000000000000000"),
        referrers: await client.queryReferrers(path),
        missingPaths: await client.queryMissing([missing]),
        path,
        text,
      };
    });
    assert.equal(a.valid, true);
    assert.equal(a.invalid, false);
    assert.deepEqual(a.validPaths, [a.path, a.text].sort());
    assert.equal(a.info, undefined);
    assert.equal(a.byHash, a.path);
    assert.equal(a.noHash, undefined);
    assert.deepEqual(a.referrers, [a.text]);
    assert.deepEqual(a.missingPaths.unknown, [
      "/nix/store/00000000000000000000000000000000-missing",
    ]);
    assert.deepEqual(b, a);
  });

  test("building: QueryMissing, BuildPaths, BuildPathsWithResults, output map, NarFromPath", async (t) => {
    if (!peers(t)) return;
    const [a, b] = await both(async (client) => {
      const busybox = (await client.addToStore(join(work, "bb"))).path;
      const dep = await addBusyboxDerivation(client, busybox, "interop-dep", "echo dep > $out");
      const main = await addBusyboxDerivation(
        client,
        busybox,
        "interop-main",
        `read x < ${dep.out}; echo "$x main ${dep.out}" > $out`,
        [dep],
      );
      const missing = await client.queryMissing([`${main.drvPath}!out`]);
      const events: string[] = [];
      client.onEvent = (event) => {
        if (event.kind === "start" && event.text !== "") events.push(event.text);
      };
      await client.buildPaths([`${main.drvPath}!out`]);
      client.onEvent = undefined;
      const results = await client.buildPathsWithResults([`${main.drvPath}!*`, dep.out]);
      const info = (await client.queryPathInfo(main.out))!;
      const nar = await collect(client.narFromPath(main.out));
      return {
        missing,
        events,
        outputMap: await client.queryDerivationOutputMap(main.drvPath),
        results: results.map(({ startTime: _s, stopTime: _t, ...rest }) => rest),
        info,
        narHash: sha256Nix32(nar),
        main,
        dep,
      };
    });
    assert.deepEqual(a.missing.willBuild, [a.dep.drvPath, a.main.drvPath].sort());
    assert.ok(a.events.some((text) => text === `building '${a.main.drvPath}'`));
    assert.deepEqual([...a.outputMap], [["out", a.main.out]]);
    assert.equal(a.results[0].status, BuildStatusCode.AlreadyValid);
    assert.equal(a.results[1].status, BuildStatusCode.AlreadyValid);
    assert.equal(a.narHash, a.info.narHash);
    assert.deepEqual(a.info.references, [a.dep.out]);
    assert.deepEqual(b.missing, a.missing);
    assert.deepEqual(b.events, a.events);
    assert.deepEqual(b.outputMap, a.outputMap);
    assert.deepEqual(b.results, a.results, "same keyed results, same realisations");
    assert.equal(b.info.narHash, a.info.narHash);
    assert.deepEqual(b.info.references, a.info.references);
    assert.equal(b.info.deriver, a.info.deriver);
    assert.equal(b.narHash, a.narHash);
  });

  test("BuildDerivation builds a derivation sent by the client", async (t) => {
    if (!peers(t)) return;
    const [a, b] = await both(async (client) => {
      const busybox = (await client.addToStore(join(work, "bb"))).path;
      const { drvPath, drv, out } = await addBusyboxDerivation(
        client,
        busybox,
        "basic",
        "echo basic > $out",
      );
      const result = await client.buildDerivation(drvPath, drv);
      const info = (await client.queryPathInfo(out))!;
      return {
        status: result.status,
        outputs: [...result.builtOutputs.keys()],
        narHash: info.narHash,
      };
    });
    assert.equal(a.status, BuildStatusCode.Built);
    assert.deepEqual(b, a);
  });

  test("failures come back as errors with the builder's message", async (t) => {
    if (!peers(t)) return;
    const [a, b] = await both(async (client) => {
      const busybox = (await client.addToStore(join(work, "bb"))).path;
      const { drvPath } = await addBusyboxDerivation(client, busybox, "broken", "exit 7");
      const error = await client.buildPaths([`${drvPath}!out`]).catch((e: unknown) => e);
      const results = await client.buildPathsWithResults([`${drvPath}!out`]);
      const ensure = await client
        .ensurePath("/nix/store/00000000000000000000000000000000-gone")
        .catch((e: unknown) => e);
      return {
        error,
        status: results[0].status,
        ensure,
        stillThere: await client.isValidPath(busybox),
      };
    });
    for (const side of [a, b]) {
      assert.ok(side.error instanceof RemoteDaemonError);
      assert.match(side.error.message, /failed with exit code 7/);
      assert.equal(side.status, BuildStatusCode.PermanentFailure);
      assert.ok(side.ensure instanceof RemoteDaemonError);
      assert.equal(side.stillThere, true);
    }
  });

  test("NARs move between the daemons: AddToStoreNar and AddMultipleToStore", async (t) => {
    if (!peers(t)) return;
    const source = await DaemonClient.connect(real.socket);
    const target = await DaemonClient.connect(kiln.trustedSocket);
    try {
      const busybox = (await source.addToStore(join(work, "bb"))).path;
      const one = await addBusyboxDerivation(source, busybox, "moved-one", "echo one > $out");
      const two = await addBusyboxDerivation(source, busybox, "moved-two", "echo two > $out");
      await source.buildPaths([`${one.drvPath}!out`, `${two.drvPath}!out`]);
      const upload = async (path: string) => ({
        info: (await source.queryPathInfo(path))!,
        nar: await collect(source.narFromPath(path)),
      });
      const first = await upload(one.out);
      await target.addToStoreNar({ info: first.info, nar: [first.nar] }, { dontCheckSigs: true });
      const second = await upload(two.out);
      const drv = await upload(two.drvPath);
      await target.addMultipleToStore(
        [
          {
            info: (await source.queryPathInfo(busybox))!,
            nar: [await collect(source.narFromPath(busybox))],
          },
          { info: second.info, nar: [second.nar] },
          { info: drv.info, nar: [drv.nar] },
        ],
        { dontCheckSigs: true },
      );
      for (const { info } of [first, second, drv]) {
        const copied = (await target.queryPathInfo(info.path))!;
        assert.equal(copied.narHash, info.narHash);
        assert.deepEqual(copied.references, info.references);
        assert.equal(copied.deriver, info.deriver);
      }
      // A NAR that does not match its stated hash is refused, and nothing is registered.
      const bad = { ...first.info, path: first.info.path.replace(/-moved-one$/, "-moved-bad") };
      const refused = await target
        .addToStoreNar({ info: bad, nar: [second.nar] }, { dontCheckSigs: true })
        .catch((e: unknown) => e);
      assert.ok(refused instanceof RemoteDaemonError);
      assert.match(refused.message, /hash mismatch/);
      assert.equal(await target.isValidPath(bad.path), false);
      const roots = await target.findRoots();
      assert.ok(
        roots.get(one.out)?.[0]?.startsWith("{temp:"),
        "what a client added is its temporary root",
      );
      const live = await target.collectGarbage({ action: GcAction.ReturnLive });
      assert.ok(live.paths.includes(one.out));
    } finally {
      source.close();
      target.close();
    }
  });

  test("an untrusted client may not import unsigned input-addressed NARs", async (t) => {
    if (!peers(t)) return;
    const source = await DaemonClient.connect(real.socket);
    const target = await DaemonClient.connect(kiln.socket);
    try {
      const busybox = (await source.addToStore(join(work, "bb"))).path;
      const { drvPath, out } = await addBusyboxDerivation(
        source,
        busybox,
        "unsigned",
        "echo unsigned > $out",
      );
      await source.buildPaths([`${drvPath}!out`]);
      const info = (await source.queryPathInfo(out))!;
      const nar = await collect(source.narFromPath(out));
      const error = await target
        .addToStoreNar({ info, nar: [nar] }, { dontCheckSigs: true })
        .catch((e: unknown) => e);
      assert.ok(error instanceof RemoteDaemonError);
      assert.match(error.message, /lacks a valid signature/);
      assert.equal(await target.isValidPath(out), false);
      // Content-addressed data is fine from anyone.
      const caInfo = (await source.queryPathInfo(busybox))!;
      const caNar = await collect(source.narFromPath(busybox));
      await target.addToStoreNar({ info: caInfo, nar: [caNar] });
      assert.equal(await target.isValidPath(busybox), true);
      assert.equal(parseHash((await target.queryPathInfo(busybox))!.narHash).algorithm, "sha256");
    } finally {
      source.close();
      target.close();
    }
  });

  test("untrusted BuildDerivation: fixed-output yes (its path checked), input-addressed no", async (t) => {
    if (!peers(t)) return;
    const client = await DaemonClient.connect(kiln.socket);
    try {
      const busybox = (await client.addToStore(join(work, "bb"))).path;
      const builder = `${busybox}/bin/busybox`;
      const system = hostSystem();
      const fixed = computeDerivationOutputs(
        {
          outputs: new Map([
            [
              "out",
              {
                path: "",
                hashAlgo: "sha256",
                hash: createHash("sha256").update("fixed\n").digest("hex"),
              },
            ],
          ]),
          inputDrvs: new Map(),
          inputSrcs: [busybox],
          system,
          builder,
          args: ["sh", "-c", "echo fixed > $out"],
          env: new Map([
            ["builder", builder],
            ["name", "fixed"],
            ["out", ""],
            ["system", system],
          ]),
        },
        { resolve: () => assert.fail("no inputs"), storeDir: "/nix/store" },
      );
      const claimed = "/nix/store/00000000000000000000000000000000-fixed.drv";
      const result = await client.buildDerivation(claimed, fixed);
      assert.equal(result.status, BuildStatusCode.Built, result.errorMsg);
      const out = fixed.outputs.get("out")!.path;
      assert.equal(
        (await client.queryPathInfo(out))?.ca,
        `fixed:sha256:${sha256Nix32(Buffer.from("fixed\n")).slice(7)}`,
      );
      // A fixed output claiming another path is refused.
      const lying = {
        ...fixed,
        outputs: new Map([
          ["out", { ...fixed.outputs.get("out")!, path: out.replace(/-fixed$/, "-other") }],
        ]),
      };
      await assert.rejects(client.buildDerivation(claimed, lying), /does not match its hash/);
      const { drvPath, drv } = await addBusyboxDerivation(
        client,
        busybox,
        "input-addressed",
        "echo no > $out",
      );
      await assert.rejects(
        client.buildDerivation(drvPath, drv),
        /not privileged to build input-addressed/,
      );
    } finally {
      client.close();
    }
  });
});
