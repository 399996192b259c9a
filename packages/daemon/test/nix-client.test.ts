/**
 * Real Nix 2.8 clients against a running `kiln daemon` whose logical store is /nix/store
 * (kept in a scratch directory): adding, querying, building with nix-build and
 * nix-store --realise, path-info, and garbage collection through the socket. Results
 * are checked against what real Nix computes alone (a private Nix store) and against
 * the files on disk.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { busyboxExpression, useDaemonWithNix } from "./daemon-harness.ts";

const setup = useDaemonWithNix();

function peers(t: Parameters<typeof requirePeer>[0]): boolean {
  return requirePeer(t, "nix-store") && requirePeer(t, "bwrap", "bubblewrap");
}

/** Writes a Nix expression into the work directory (next to ./bb); returns its path. */
function expression(file: string, text: string): string {
  const path = join(setup.work, file);
  writeFileSync(path, text);
  return path;
}

/** The output path real Nix computes for an expression, without any daemon. */
function nixOutputPath(file: string): string {
  const drv = setup.nix.run("nix-instantiate", [file]).toString().trim();
  return setup.nix.run("nix-store", ["-q", "--outputs", drv]).toString().trim();
}

function realFile(storePath: string, ...inside: string[]): string {
  return join(setup.daemon.realStoreDir, storePath.slice("/nix/store/".length), ...inside);
}

describe("real Nix 2.8 against kiln daemon", { concurrency: false }, () => {
  test("nix-store --add gives Nix's path, and -q --hash Nix's NAR hash", (t) => {
    if (!peers(t)) return;
    const file = join(setup.work, "hello.txt");
    writeFileSync(file, "hello from a Nix client\n");
    const added = setup.daemon.nix("nix-store", ["--add", file]).trim();
    assert.equal(added, setup.nix.run("nix-store", ["--add", file]).toString().trim());
    assert.equal(readFileSync(realFile(added), "utf8"), "hello from a Nix client\n");
    assert.equal(
      setup.daemon.nix("nix-store", ["-q", "--hash", added]).trim(),
      setup.nix.run("nix-store", ["-q", "--hash", added]).toString().trim(),
    );
    const fixed = setup.daemon.nix("nix-store", ["--add-fixed", "sha1", file]).trim();
    assert.equal(
      fixed,
      setup.nix.run("nix-store", ["--add-fixed", "sha1", file]).toString().trim(),
    );
  });

  test("nix-build builds through the daemon; the output path is Nix's, references are scanned", (t) => {
    if (!peers(t)) return;
    const file = expression(
      "chain.nix",
      `let dep = ${busyboxExpression("dep", "echo dependency > $out").trim()};
       in ${busyboxExpression("main", 'read line < $dep; echo "$line and main: $dep" > $out; echo main-was-built', "inherit dep;").trim()}\n`,
    );
    const run = setup.daemon.nixResult("nix-build", [file, "--no-out-link"], { cwd: setup.work });
    assert.equal(run.status, 0, run.stderr);
    const out = run.stdout.trim();
    assert.equal(out, nixOutputPath(file));
    assert.match(run.stderr, /building '\/nix\/store\/[a-z0-9]{32}-main\.drv'/);
    assert.match(run.stderr, /main-was-built/);
    const dep = setup.daemon.nix("nix-store", ["-q", "--references", out]).trim();
    assert.match(dep, /^\/nix\/store\/[a-z0-9]{32}-dep$/);
    assert.equal(readFileSync(realFile(out), "utf8"), `dependency and main: ${dep}\n`);
    assert.deepEqual(setup.daemon.nix("nix-store", ["-q", "--referrers", dep]).trim().split("\n"), [
      out,
    ]);
    assert.deepEqual(
      setup.daemon.nix("nix-store", ["-q", "--requisites", out]).trim().split("\n").sort(),
      [dep, out].sort(),
    );
    // The derivation itself refers to busybox and to dep's derivation.
    const drv = setup.daemon.nix("nix-store", ["-q", "--deriver", out]).trim();
    const drvRefs = setup.daemon.nix("nix-store", ["-q", "--references", drv]).trim().split("\n");
    assert.equal(drvRefs.length, 2);
    assert.ok(drvRefs.some((ref) => ref.endsWith("-bb")));
    assert.ok(drvRefs.some((ref) => ref.endsWith("-dep.drv")));
  });

  test("nix-store --realise of an instantiated derivation", (t) => {
    if (!peers(t)) return;
    const file = expression("realise.nix", busyboxExpression("realised", "echo realised > $out"));
    const drv = setup.daemon.nix("nix-instantiate", [file], { cwd: setup.work }).trim();
    assert.match(drv, /^\/nix\/store\/[a-z0-9]{32}-realised\.drv$/);
    assert.equal(drv, setup.nix.run("nix-instantiate", [file]).toString().trim());
    const out = setup.daemon.nix("nix-store", ["--realise", drv]).trim();
    assert.equal(out, nixOutputPath(file));
    assert.equal(readFileSync(realFile(out), "utf8"), "realised\n");
    // Realising again builds nothing.
    const again = setup.daemon.nixResult("nix-store", ["--realise", drv]);
    assert.equal(again.stdout.trim(), out);
    assert.doesNotMatch(again.stderr, /building/);
  });

  test("nix path-info --json reports what the store holds, hashed as Nix hashes it", (t) => {
    if (!peers(t)) return;
    const file = expression(
      "info.nix",
      busyboxExpression("info", "mkdir $out; echo x > $out/file"),
    );
    const out = setup.daemon.nix("nix-build", [file, "--no-out-link"], { cwd: setup.work }).trim();
    const [info] = JSON.parse(setup.daemon.nix("nix", ["path-info", "--json", out])) as {
      path: string;
      narHash: string;
      narSize: number;
      references: string[];
      deriver: string;
      ultimate: boolean;
    }[];
    assert.equal(info.path, out);
    const hashed = setup.nix.run("nix", [
      "hash",
      "path",
      "--type",
      "sha256",
      "--sri",
      realFile(out),
    ]);
    assert.equal(info.narHash, hashed.toString().trim());
    const dumped = setup.nix.run("nix-store", ["--dump", realFile(out)]);
    assert.equal(info.narSize, dumped.length);
    assert.deepEqual(info.references, []);
    assert.equal(
      info.deriver,
      setup.daemon.nix("nix-instantiate", [file], { cwd: setup.work }).trim(),
    );
    assert.equal(info.ultimate, true);
  });

  test("errors come back as Nix errors; the connection stays usable", (t) => {
    if (!peers(t)) return;
    const missing = "/nix/store/00000000000000000000000000000000-missing";
    const result = setup.daemon.nixResult("nix-store", ["-q", "--hash", missing]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /is not valid/);
    const failing = expression(
      "fail.nix",
      busyboxExpression("failing", "echo about-to-fail; exit 3"),
    );
    const build = setup.daemon.nixResult("nix-build", [failing, "--no-out-link"], {
      cwd: setup.work,
    });
    assert.notEqual(build.status, 0);
    assert.match(build.stderr, /about-to-fail/);
    assert.match(build.stderr, /failed with exit code 3/);
  });

  test("untrusted clients cannot import unsigned input-addressed paths; the trusted socket can", (t) => {
    if (!peers(t)) return;
    // An input-addressed path built by real Nix in its own store.
    const file = expression("copied.nix", busyboxExpression("copied", "echo copied > $out"));
    const source = createPrivateNixStore("/nix/store");
    try {
      const out = source
        .run("nix-build", [file, "--no-out-link", "--option", "sandbox", "false"])
        .toString()
        .trim();
      const copy = (trusted: boolean) =>
        setup.daemon.nixResult(
          "nix",
          [
            "copy",
            "--no-check-sigs",
            "--from",
            source.uri,
            "--to",
            trusted ? setup.daemon.trustedUri : setup.daemon.uri,
            out,
          ],
          { cwd: setup.work },
        );
      const refused = copy(false);
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /lacks a valid signature/);
      assert.equal(existsSync(realFile(out)), false);
      const accepted = copy(true);
      assert.equal(accepted.status, 0, accepted.stderr);
      assert.equal(readFileSync(realFile(out), "utf8"), "copied\n");
      assert.equal(
        setup.daemon.nix("nix-store", ["-q", "--hash", out]).trim(),
        source.run("nix-store", ["-q", "--hash", out]).toString().trim(),
      );
    } finally {
      source.dispose();
    }
  });

  test("garbage collection through the socket keeps rooted paths and deletes the rest", (t) => {
    if (!peers(t)) return;
    const rootedFile = expression("rooted.nix", busyboxExpression("rooted", "echo rooted > $out"));
    const link = join(setup.work, "result-rooted");
    const rooted = setup.daemon
      .nix("nix-build", [rootedFile, "--out-link", link], { cwd: setup.work })
      .trim();
    const loose = join(setup.work, "loose.txt");
    writeFileSync(loose, "nobody keeps me\n");
    const dead = setup.daemon.nix("nix-store", ["--add", loose]).trim();
    const listed = setup.daemon.nix("nix-store", ["--gc", "--print-dead"]).trim().split("\n");
    assert.ok(listed.includes(dead), "the unrooted path is dead");
    assert.ok(!listed.includes(rooted), "the rooted path is live");
    const roots = setup.daemon.nix("nix-store", ["--gc", "--print-roots"]);
    assert.match(roots, new RegExp(`${rooted}`));
    const refused = setup.daemon.nixResult("nix-store", ["--delete", rooted]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /still alive/);
    const gc = setup.daemon.nixResult("nix-store", ["--gc"]);
    assert.equal(gc.status, 0, gc.stderr);
    assert.match(gc.stderr + gc.stdout, /store paths deleted/);
    assert.equal(existsSync(realFile(dead)), false);
    assert.notEqual(setup.daemon.nixResult("nix-store", ["-q", "--hash", dead]).status, 0);
    assert.equal(readFileSync(realFile(rooted), "utf8"), "rooted\n");
    assert.equal(setup.daemon.nixResult("nix-store", ["-q", "--hash", rooted]).status, 0);
    // The derivation of a live output is kept too (gc-keep-derivations, on by default).
    const drv = setup.daemon.nix("nix-store", ["-q", "--deriver", rooted]).trim();
    assert.equal(setup.daemon.nixResult("nix-store", ["-q", "--hash", drv]).status, 0);
  });
});
