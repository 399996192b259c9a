/**
 * `buildDerivations` end to end: real bubblewrap sandboxes running a static busybox
 * that is itself a store path, in a scratch store with logical directory /nix/store.
 * Each test checks the store afterwards (database and files), so a build that "works"
 * while leaving a mess behind fails.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { formatHashNix32, fromHex, hashBytes, toHex } from "@kiln/formats/hash";
import { KilnError } from "@kiln/formats/kiln-error";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { requirePeer } from "@kiln/testkit";
import { buildDerivations } from "../src/build-derivations.ts";
import { buildLogPath } from "../src/build-log.ts";
import type { BuildOptions } from "../src/build-options.ts";
import { describeDryRun } from "../src/describe-dry-run.ts";
import { readBuildLog } from "../src/read-build-log.ts";
import { assertAbsent, assertFailedWith } from "./build-assertions.ts";
import {
  type BuildTestStore,
  createBuildTestStore,
  type DerivationSpec,
} from "./build-test-store.ts";

let t: BuildTestStore;
before(async () => {
  t = await createBuildTestStore("/nix/store");
});
after(() => t.dispose());

/** A derivation unique to the calling test (tests share the store and run concurrently). */
function add(spec: DerivationSpec) {
  return t.addDerivation({ ...spec, env: { salt: randomBytes(8).toString("hex"), ...spec.env } });
}

async function build(drvPaths: string[], options: BuildOptions = {}) {
  const results = await buildDerivations(t.store, drvPaths, options);
  const byDrv = new Map(results.map((result) => [result.drvPath, result]));
  return { results, get: (drvPath: string) => byDrv.get(drvPath)! };
}

const bwrap = (ctx: Parameters<typeof requirePeer>[0]) => requirePeer(ctx, "bwrap", "bubblewrap");

describe("building derivations", { concurrency: true }, () => {
  test("a chain is built dependencies first; references are exactly what the outputs hold", async (ctx) => {
    if (!bwrap(ctx)) return;
    const c = await add({ name: "c", script: "echo c > $out" });
    const cOut = t.output(c.drv);
    const b = await add({
      name: "b",
      script: `echo "b uses ${cOut}: $(cat ${cOut})" > $out`,
      inputDrvs: { [c.drvPath]: ["out"] },
    });
    const bOut = t.output(b.drv);
    const a = await add({
      name: "a",
      script: `mkdir $out; cat ${bOut} > $out/copied; echo $out > $out/self`,
      inputDrvs: { [b.drvPath]: ["out"] },
    });
    const aOut = t.output(a.drv);

    const dry = await build([a.drvPath], { dryRun: true });
    assert.equal(
      describeDryRun(dry.results),
      `these 3 derivations will be built:\n  ${c.drvPath}\n  ${b.drvPath}\n  ${a.drvPath}\n`,
    );
    assertAbsent(t.store, aOut);

    const { results } = await build([a.drvPath], { maxJobs: 2 });
    assert.deepEqual(
      results.map((r) => [r.drvPath, r.status, r.requested]),
      [
        [c.drvPath, "built", false],
        [b.drvPath, "built", false],
        [a.drvPath, "built", true],
      ],
    );
    assert.deepEqual(results[2].outputs, { out: aOut });
    assert.deepEqual(t.store.queryPathInfo(cOut)?.references, []);
    assert.deepEqual(t.store.queryPathInfo(bOut)?.references, [cOut]);
    // a copied b's text, which names c; busybox was an input but is not referred to.
    assert.deepEqual(t.store.queryPathInfo(aOut)?.references, [aOut, cOut].sort());
    const info = t.store.queryPathInfo(aOut)!;
    assert.equal(info.deriver, a.drvPath);
    assert.equal(info.ultimate, true);
    assert.equal(info.ca, undefined);
    assert.equal(readFileSync(join(t.store.realPath(aOut), "self"), "utf8"), `${aOut}\n`);
    assert.equal(statSync(t.store.realPath(aOut)).mode & 0o7777, 0o555);

    assert.equal(describeDryRun((await build([a.drvPath], { dryRun: true })).results), "");
    const again = await build([a.drvPath]);
    assert.deepEqual(
      again.results.map((r) => r.status),
      ["already-valid"],
    );
  });

  test("a build cannot change a file input for the builds after it in the same scratch directory", async (ctx) => {
    if (!bwrap(ctx)) return;
    const data = await t.addText(`data-${randomBytes(4).toString("hex")}`, "original\n");
    // The first build tries everything its writable store directory allows on the input.
    const first = await add({
      name: "tamper",
      inputSrcs: [data],
      script: `chmod 644 ${data} && echo chmod=yes || echo chmod=no
        echo x >> ${data} && echo write=yes || echo write=no
        ln ${data} $NIX_STORE/linked && echo link=yes || echo link=no
        rm -f ${data}; echo evil > ${data}; echo done > $out`,
    });
    const second = await add({
      name: "reader",
      inputSrcs: [data],
      inputDrvs: { [first.drvPath]: ["out"] },
      script: `cat ${data} > $out; ls -A $NIX_STORE >> $out`,
    });
    const { get } = await build([second.drvPath], { maxJobs: 1 });
    assert.equal(get(first.drvPath).status, "built", get(first.drvPath).error?.message);
    assert.equal(get(second.drvPath).status, "built", get(second.drvPath).error?.message);
    const log = await text(readBuildLog(t.store.config, t.store.db, first.drvPath)!);
    assert.match(log, /chmod=no/);
    assert.match(log, /write=no/);
    assert.equal(readFileSync(t.store.realPath(data), "utf8"), "original\n");
    const seen = readFileSync(t.store.realPath(t.output(second.drv)), "utf8").split("\n");
    assert.equal(seen[0], "original", "the next build sees the input as it is in the store");
    assert.deepEqual(
      seen.slice(1).filter(Boolean).sort(),
      [t.busybox, data, t.output(first.drv), t.output(second.drv)]
        .map((path) => path.slice("/nix/store/".length))
        .sort(),
      "and nothing the first build left",
    );
  });

  test("a build set up while its inputs are built sees them, copied in or bound", async (ctx) => {
    if (!bwrap(ctx)) return;
    // The dependent's sandbox can be set up early (as root), before these outputs exist:
    // a small file is copied in when it is there, a directory makes it start again.
    const file = await add({ name: "file-dep", script: "sleep 0.2; echo file > $out" });
    const dir = await add({ name: "dir-dep", script: "sleep 0.2; mkdir $out; echo dir > $out/x" });
    const top = await add({
      name: "early",
      inputDrvs: { [file.drvPath]: ["out"], [dir.drvPath]: ["out"] },
      script: `cat ${t.output(file.drv)} ${t.output(dir.drv)}/x > $out; ls -A $NIX_STORE >> $out`,
    });
    const { get } = await build([top.drvPath], { maxJobs: 2 });
    for (const drv of [file, dir, top])
      assert.equal(get(drv.drvPath).status, "built", get(drv.drvPath).error?.message);
    const lines = readFileSync(t.store.realPath(t.output(top.drv)), "utf8").split("\n");
    assert.deepEqual(lines.slice(0, 2), ["file", "dir"]);
    assert.deepEqual(
      lines.slice(2).filter(Boolean).sort(),
      [t.busybox, t.output(file.drv), t.output(dir.drv), t.output(top.drv)]
        .map((path) => path.slice("/nix/store/".length))
        .sort(),
    );
  });

  test("dry run lists exactly the missing derivations", async (ctx) => {
    if (!bwrap(ctx)) return;
    const c = await add({ name: "c", script: "echo c > $out" });
    const b = await add({
      name: "b",
      script: "echo b > $out",
      inputDrvs: { [c.drvPath]: ["out"] },
    });
    const a = await add({
      name: "a",
      script: "echo a > $out",
      inputDrvs: { [b.drvPath]: ["out"] },
    });
    assert.equal((await build([c.drvPath])).get(c.drvPath).status, "built");
    const dry = await build([a.drvPath], { dryRun: true });
    assert.deepEqual(
      dry.results.map((r) => [r.drvPath, r.status]),
      [
        [b.drvPath, "would-build"],
        [a.drvPath, "would-build"],
      ],
    );
    assertAbsent(t.store, t.output(b.drv));
  });

  test("several outputs: cross and self references, registered together", async (ctx) => {
    if (!bwrap(ctx)) return;
    const m = await add({
      name: "multi",
      outputs: ["out", "dev", "lib"],
      script: `echo out > $out; echo "lib self=$lib" > $lib; echo "dev uses $lib and $out" > $dev`,
    });
    const { get } = await build([m.drvPath]);
    assert.equal(get(m.drvPath).status, "built");
    const [out, dev, lib] = ["out", "dev", "lib"].map((name) => t.output(m.drv, name));
    assert.deepEqual(t.store.queryPathInfo(out)?.references, []);
    assert.deepEqual(t.store.queryPathInfo(lib)?.references, [lib]);
    assert.deepEqual(t.store.queryPathInfo(dev)?.references, [lib, out].sort());
    for (const path of [out, dev, lib])
      assert.equal(t.store.queryPathInfo(path)?.deriver, m.drvPath);
  });

  test("an output that is not produced fails the build; no output is registered or left", async (ctx) => {
    if (!bwrap(ctx)) return;
    const m = await add({ name: "half", outputs: ["out", "dev"], script: "echo out > $out" });
    const { get } = await build([m.drvPath]);
    assertFailedWith(
      get(m.drvPath),
      "ERR_MISSING_OUTPUT",
      /failed to produce output path .*-half-dev/,
    );
    assertAbsent(t.store, t.output(m.drv, "out"));
    assertAbsent(t.store, t.output(m.drv, "dev"));
  });

  test("a failing build: nothing registered or left, log kept, dependents not built", async (ctx) => {
    if (!bwrap(ctx)) return;
    const bad = await add({
      name: "bad",
      script: "echo partial > $out; echo going down >&2; exit 3",
    });
    const dependent = await add({
      name: "dependent",
      script: "echo > $out",
      inputDrvs: { [bad.drvPath]: ["out"] },
    });
    const { get } = await build([dependent.drvPath], { keepFailed: false });
    const failed = get(bad.drvPath);
    assertFailedWith(
      failed,
      "ERR_BUILD_FAILED",
      /^builder for .*-bad\.drv failed with exit code 3$/,
    );
    assertAbsent(t.store, t.output(bad.drv));
    assert.equal(get(dependent.drvPath).status, "dependency-failed");
    assert.equal(get(dependent.drvPath).failedDependency, bad.drvPath);
    assertAbsent(t.store, t.output(dependent.drv));
    // It may have been set up while bad ran; it never started, so it has no log.
    assert.equal(get(dependent.drvPath).logPath, undefined);
    assert.equal(existsSync(buildLogPath(t.store.config, dependent.drvPath)), false);
    assert.equal(failed.logPath, buildLogPath(t.store.config, bad.drvPath));
    const log = await text(readBuildLog(t.store.config, t.store.db, bad.drvPath)!);
    assert.equal(log, "going down\n");
  });

  test("keepGoing finishes independent builds; without it no new build starts", async (ctx) => {
    if (!bwrap(ctx)) return;
    const bad = await add({ name: "fails", script: "exit 1" });
    // An independent derivation planned after the failing one (plans are in path order).
    let other = await add({ name: "independent", script: "echo > $out" });
    while (other.drvPath < bad.drvPath)
      other = await add({ name: "independent", script: "echo > $out" });
    const stopped = await build([bad.drvPath, other.drvPath], { maxJobs: 1 });
    assert.equal(stopped.get(bad.drvPath).status, "failed");
    assert.equal(stopped.get(other.drvPath).status, "skipped");
    assertAbsent(t.store, t.output(other.drv));
    const going = await build([bad.drvPath, other.drvPath], { maxJobs: 1, keepGoing: true });
    assert.equal(going.get(bad.drvPath).status, "failed");
    assert.equal(going.get(other.drvPath).status, "built");
  });

  test("keepFailed keeps the failed build's tree, outside the store", async (ctx) => {
    if (!bwrap(ctx)) return;
    const bad = await add({ name: "kept", script: "echo notes > notes; echo > $out; exit 1" });
    const { get } = await build([bad.drvPath], { keepFailed: true });
    const result = get(bad.drvPath);
    assert.equal(result.status, "failed");
    assert.ok(result.buildTreeKept?.startsWith(join(t.store.config.stateDir, "kiln", "builds")));
    assert.equal(readFileSync(join(result.buildTreeKept!, "notes"), "utf8"), "notes\n");
    assertAbsent(t.store, t.output(bad.drv));
  });

  test("timeout and max-silent-time kill the build and register nothing", async (ctx) => {
    if (!bwrap(ctx)) return;
    const slow = await add({ name: "slow", script: "echo > $out; sleep 30" });
    const quiet = await add({ name: "quiet", script: "echo started; echo > $out; sleep 30" });
    const [timedOut, silent] = await Promise.all([
      build([slow.drvPath], { timeout: 0.5 }),
      build([quiet.drvPath], { maxSilentTime: 0.5 }),
    ]);
    assertFailedWith(
      timedOut.get(slow.drvPath),
      "ERR_BUILD_TIMEOUT",
      /timed out after 0.5 seconds$/,
    );
    assertFailedWith(silent.get(quiet.drvPath), "ERR_BUILD_SILENT", /after 0.5 seconds of silence/);
    assertAbsent(t.store, t.output(slow.drv));
    assertAbsent(t.store, t.output(quiet.drv));
  });

  test("max-jobs 2 runs two builds at once, max-jobs 1 one after the other", async (ctx) => {
    if (!bwrap(ctx)) return;
    // /proc/uptime is the machine's clock (centiseconds), shared by all sandboxes.
    const script =
      "cut -d' ' -f1 /proc/uptime > $out; sleep 0.4; cut -d' ' -f1 /proc/uptime >> $out";
    const interval = (drv: Awaited<ReturnType<typeof add>>["drv"]) =>
      readFileSync(t.store.realPath(t.output(drv)), "utf8")
        .trim()
        .split("\n")
        .map(Number);
    const parallel = [await add({ name: "p1", script }), await add({ name: "p2", script })];
    await build(
      parallel.map((d) => d.drvPath),
      { maxJobs: 2 },
    );
    const [[s1, e1], [s2, e2]] = parallel.map((d) => interval(d.drv));
    assert.ok(s1 < e2 && s2 < e1, `overlap: [${s1}, ${e1}] and [${s2}, ${e2}]`);
    const serial = [await add({ name: "q1", script }), await add({ name: "q2", script })];
    await build(
      serial.map((d) => d.drvPath),
      { maxJobs: 1 },
    );
    const [[t1, f1], [t2, f2]] = serial.map((d) => interval(d.drv));
    assert.ok(f1 <= t2 || f2 <= t1, `no overlap: [${t1}, ${f1}] and [${t2}, ${f2}]`);
  });

  test("setuid, setgid and sticky bits and odd modes never reach the store", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({
      name: "modes",
      script: `mkdir $out; echo x > $out/suid; chmod 6755 $out/suid; echo y > $out/plain
               chmod 0600 $out/plain; mkdir $out/sticky; chmod 1777 $out/sticky`,
    });
    assert.equal((await build([d.drvPath])).get(d.drvPath).status, "built");
    const real = t.store.realPath(t.output(d.drv));
    assert.equal(statSync(join(real, "suid")).mode & 0o7777, 0o555);
    assert.equal(statSync(join(real, "plain")).mode & 0o7777, 0o444);
    assert.equal(statSync(join(real, "sticky")).mode & 0o7777, 0o555);
    assert.equal(lstatSync(join(real, "plain")).mtimeMs, 1000);
    assert.equal(lstatSync(real).uid, process.getuid!());
  });

  test("a leftover at the output's place (a killed build) is removed, then built over", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({ name: "leftover", script: "echo fresh > $out" });
    // A directory: rename(2) could replace a file, but not a non-empty directory.
    mkdirSync(t.store.realPath(t.output(d.drv)));
    writeFileSync(join(t.store.realPath(t.output(d.drv)), "partial"), "stale");
    assert.equal((await build([d.drvPath])).get(d.drvPath).status, "built");
    assert.equal(readFileSync(t.store.realPath(t.output(d.drv)), "utf8"), "fresh\n");
  });

  test("two builders of the same derivation: one builds, the other finds it valid", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({ name: "contended", script: "sleep 0.2; echo > $out" });
    const both = await Promise.all([build([d.drvPath]), build([d.drvPath])]);
    const statuses = both.map((b) => b.get(d.drvPath).status).sort();
    assert.deepEqual(statuses, ["already-valid", "built"]);
  });

  test("logs are stored compressed and shown live through the reporter", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({
      name: "chatty",
      script: "for i in 1 2 3; do echo line $i; done; echo err >&2; echo > $out",
    });
    const events: string[] = [];
    let live = "";
    const { get } = await build([d.drvPath], {
      reporter: {
        planned: (n) => events.push(`planned ${n}`),
        started: (drvPath) => events.push(`started ${drvPath === d.drvPath}`),
        output: (_drvPath, chunk) => {
          live += Buffer.from(chunk).toString();
        },
        finished: (r) => events.push(`finished ${r.status}`),
        warning: (message) => events.push(`warning ${message}`),
      },
    });
    assert.deepEqual(events, ["planned 1", "started true", "finished built"]);
    const file = readFileSync(get(d.drvPath).logPath!);
    assert.deepEqual([...file.subarray(0, 2)], [0x1f, 0x8b]);
    const stored = await text(readBuildLog(t.store.config, t.store.db, t.output(d.drv))!);
    assert.equal(stored, "line 1\nline 2\nline 3\nerr\n");
    assert.equal(live, stored);
  });
});

describe("fixed-output derivations", { concurrency: true }, () => {
  const content = "fixed output content\n";
  const sha256 = hashBytes("sha256", content);

  test("flat: built with the host network, checked, registered with its content address", async (ctx) => {
    if (!bwrap(ctx)) return;
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    ctx.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const d = await add({
      name: "fetched.txt",
      script: `nc -w 2 127.0.0.1 ${port} </dev/null; printf 'fixed output content\\n' > $out`,
      fixed: { hashAlgo: "sha256", hash: toHex(sha256.digest) },
    });
    const out = t.output(d.drv);
    assert.equal(
      out,
      makeFixedOutputPath({
        method: "flat",
        hash: sha256,
        name: "fetched.txt",
        storeDir: "/nix/store",
      }),
    );
    assert.equal((await build([d.drvPath])).get(d.drvPath).status, "built");
    assert.equal(connections, 1, "the build reached the host network");
    const info = t.store.queryPathInfo(out)!;
    assert.equal(info.ca, `fixed:${formatHashNix32(sha256)}`);
    assert.deepEqual(info.references, []);
    assert.equal(readFileSync(t.store.realPath(out), "utf8"), content);
  });

  test("recursive, with sha1: the NAR hash decides", async (ctx) => {
    if (!bwrap(ctx)) return;
    // Build it once with a wrong hash to learn the NAR's sha1 from the error, then for real.
    const script = "mkdir -p $out/sub; echo a > $out/a; echo b > $out/sub/b";
    const wrong = await add({
      name: "tree",
      script,
      fixed: { hashAlgo: "r:sha1", hash: "0".repeat(40) },
    });
    const result = (await build([wrong.drvPath])).get(wrong.drvPath);
    assertFailedWith(result, "ERR_HASH_MISMATCH", /got: +sha1:/);
    const actual = /got: +sha1:[0-9a-z]+ \(base16 ([0-9a-f]{40})\)/.exec(result.error!.message)![1];
    assertAbsent(t.store, t.output(wrong.drv));
    const right = await add({ name: "tree", script, fixed: { hashAlgo: "r:sha1", hash: actual } });
    assert.equal((await build([right.drvPath])).get(right.drvPath).status, "built");
    const out = t.output(right.drv);
    assert.equal(
      out,
      makeFixedOutputPath({
        method: "recursive",
        hash: { algorithm: "sha1", digest: fromHex(actual) },
        name: "tree",
        storeDir: "/nix/store",
      }),
    );
    assert.match(t.store.queryPathInfo(out)!.ca!, /^fixed:r:sha1:[0-9a-z]{32}$/);
    assert.equal(readFileSync(join(t.store.realPath(out), "sub", "b"), "utf8"), "b\n");
  });

  test("a wrong hash names expected and actual, and nothing is registered", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({
      name: "changed.txt",
      script: "echo something else > $out",
      fixed: { hashAlgo: "sha256", hash: toHex(sha256.digest) },
    });
    const result = (await build([d.drvPath])).get(d.drvPath);
    assertFailedWith(
      result,
      "ERR_HASH_MISMATCH",
      /specified: sha256:[0-9a-z]{52} \(base16 [0-9a-f]{64}\)\n {2}got: +sha256:/,
    );
    assert.ok(result.error!.message.includes(toHex(sha256.digest)));
    assert.ok(
      result.error!.message.includes(toHex(hashBytes("sha256", "something else\n").digest)),
    );
    assertAbsent(t.store, t.output(d.drv));
  });
});

describe("--check", { concurrency: true }, () => {
  test("a deterministic derivation checks out; the store is untouched", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({ name: "same", script: "echo same > $out" });
    await build([d.drvPath]);
    const before = lstatSync(t.store.realPath(t.output(d.drv)));
    assert.equal((await build([d.drvPath], { check: true })).get(d.drvPath).status, "checked");
    assert.equal(lstatSync(t.store.realPath(t.output(d.drv))).ino, before.ino);
  });

  test("a non-deterministic derivation is reported; keepFailed keeps the other copy", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({ name: "random", script: "head -c 16 /dev/urandom | od -x > $out" });
    await build([d.drvPath]);
    const out = t.output(d.drv);
    const narHash = t.store.queryPathInfo(out)!.narHash;
    const original = readFileSync(t.store.realPath(out), "utf8");
    const result = (await build([d.drvPath], { check: true, keepFailed: true })).get(d.drvPath);
    assertFailedWith(
      result,
      "ERR_NOT_DETERMINISTIC",
      /may not be deterministic: output .*-random differs/,
    );
    const copy = `${t.store.realPath(out)}.check`;
    assert.ok(result.error!.message.includes(copy));
    assert.notEqual(readFileSync(copy, "utf8"), original);
    assert.equal(readFileSync(t.store.realPath(out), "utf8"), original, "the store keeps its copy");
    assert.equal(t.store.queryPathInfo(out)!.narHash, narHash);
  });

  test("checking a derivation that was never built is an error", async (ctx) => {
    if (!bwrap(ctx)) return;
    const d = await add({ name: "unbuilt", script: "echo > $out" });
    const result = (await build([d.drvPath], { check: true })).get(d.drvPath);
    assertFailedWith(result, "ERR_MISSING_INPUT", /not valid, so checking is not possible/);
    assertAbsent(t.store, t.output(d.drv));
  });
});

describe("bad input", { concurrency: true }, () => {
  const rejects = (pattern: RegExp, code: string) => (error: unknown) =>
    error instanceof KilnError &&
    error.code === code &&
    pattern.test(error.message) &&
    !error.message.includes("\n");

  test("not a derivation, not in the store, malformed, or a missing input source: one-line errors", async () => {
    await assert.rejects(
      build(["/etc/passwd"]),
      rejects(/is not a derivation in \/nix\/store/, "ERR_BAD_DERIVATION"),
    );
    const absent = "/nix/store/00000000000000000000000000000000-absent.drv";
    await assert.rejects(build([absent]), rejects(/is not in the store/, "ERR_MISSING_INPUT"));
    const garbage = await t.addText("garbage.drv", "Derive([(oops");
    await assert.rejects(build([garbage]), rejects(/garbage\.drv.*expected/, "ERR_BAD_DERIVATION"));
    // A .drv whose source was never added (registered without that reference).
    const src = "/nix/store/11111111111111111111111111111111-src";
    const d = await add({ name: "nosrc", script: "true" });
    const text = readFileSync(t.store.realPath(d.drvPath), "utf8").replace(
      `[${JSON.stringify(t.busybox)}]`,
      `[${JSON.stringify(src)},${JSON.stringify(t.busybox)}]`,
    );
    const withSrc = await t.addText("nosrc.drv", text, [t.busybox]);
    await assert.rejects(
      build([withSrc]),
      rejects(/input .*-src of .*nosrc\.drv is not valid/, "ERR_MISSING_INPUT"),
    );
  });

  test("another system, a builtin, an unreachable builder: the build fails and says why", async (ctx) => {
    if (!bwrap(ctx)) return;
    const other = await add({ name: "arm", script: "true", system: "aarch64-linux" });
    assertFailedWith(
      (await build([other.drvPath])).get(other.drvPath),
      "ERR_WRONG_SYSTEM",
      /cannot build .* on this system/,
    );
    const builtin = await add({
      name: "fetch",
      builder: "builtin:fetchurl",
      args: [],
      system: "builtin",
    });
    assertFailedWith(
      (await build([builtin.drvPath])).get(builtin.drvPath),
      "ERR_UNSUPPORTED",
      /not supported yet/,
    );
    const host = await add({ name: "host-sh", builder: "/bin/sh", args: ["-c", "echo > $out"] });
    assertFailedWith(
      (await build([host.drvPath])).get(host.drvPath),
      "ERR_MISSING_BUILDER",
      /neither in the store nor in a chroot/,
    );
    const ok = (
      await build([host.drvPath], { chrootDirs: ["/bin/sh", "/lib", "/lib64", "/usr"] })
    ).get(host.drvPath);
    assert.equal(ok.status, "built", ok.error?.message);
  });

  test("bad options and an unwritable store are refused before anything is built", async () => {
    const d = await add({ name: "opts", script: "echo > $out" });
    await assert.rejects(build([d.drvPath], { maxJobs: 0 }), rejects(/maxJobs/, "ERR_USAGE"));
    await assert.rejects(build([d.drvPath], { cores: -1 }), rejects(/cores/, "ERR_USAGE"));
    await assert.rejects(
      build([d.drvPath], { timeout: Number.NaN }),
      rejects(/timeout/, "ERR_USAGE"),
    );
    const readOnly = {
      config: { ...t.store.config, realStoreDir: join(t.root, "no-such-store") },
      db: t.store.db,
      lockPaths: (paths: readonly string[]) => t.store.lockPaths(paths),
      readDerivation: (path: string) => t.store.readDerivation(path),
      realPath: (path: string) => t.store.realPath(path),
      temporaryPathFor: (path: string) => t.store.temporaryPathFor(path),
    };
    await assert.rejects(
      buildDerivations(readOnly, [d.drvPath]),
      rejects(/cannot write to the store at .*no-such-store/, "ERR_STORE_NOT_WRITABLE"),
    );
    assertAbsent(t.store, t.output(d.drv));
    assert.equal(existsSync(join(t.root, "no-such-store")), false);
  });
});
